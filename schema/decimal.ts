// Exact decimal text <-> integer mantissa, never through a float.
// A mantissa is an integer m such that value = m / 10^decimals. In process we keep mantissas as JS
// numbers restricted to safe integers (|m| <= 2^53-1); on the wire they are i64.

export const DecimalError = {
  None: 0,
  Malformed: 1,
  /** More fractional digits than the instrument's decimals, and the extra digits are not all zero. */
  NotExact: 2,
  /** The mantissa does not fit a safe integer. */
  Overflow: 3,
} as const;
export type DecimalError = (typeof DecimalError)[keyof typeof DecimalError];

let lastError: DecimalError = DecimalError.None;

/** Why the last parseFixed call returned NaN. */
export function decimalError(): DecimalError {
  return lastError;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Parse decimal text ("123.4500", "-0.5", "1e-8", "4.2E+3") into a mantissa with `decimals` fractional
 * digits. Returns NaN on failure and sets decimalError(). Allocates nothing.
 * `start`/`end` let a caller parse a slice of a larger string (a raw JSON message) in place.
 */
export function parseFixed(text: string, decimals: number, start = 0, end = text.length): number {
  let i = start;
  let negative = false;
  if (i < end) {
    const c = text.charCodeAt(i);
    if (c === 45 /* - */) {
      negative = true;
      i++;
    } else if (c === 43 /* + */) i++;
  }
  let mantissa = 0;
  let scale = 0; // fractional digits included in mantissa
  // Zeros are held back until a non-zero digit follows, so "0.10000000000000000000" cannot overflow.
  let pendingIntZeros = 0;
  let pendingFracZeros = 0;
  let digits = 0;
  let seenDot = false;
  let exponent = 0;
  let overflow = false;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 48 /* 0 */) {
      digits++;
      if (seenDot) pendingFracZeros++;
      else pendingIntZeros++;
    } else if (c > 48 && c <= 57) {
      digits++;
      for (; pendingIntZeros > 0; pendingIntZeros--) mantissa *= 10;
      for (; pendingFracZeros > 0; pendingFracZeros--) {
        mantissa *= 10;
        scale++;
      }
      mantissa = mantissa * 10 + (c - 48);
      if (seenDot) scale++;
      if (mantissa > MAX_SAFE) overflow = true;
    } else if (c === 46 /* . */ && !seenDot) {
      seenDot = true;
    } else if ((c === 101 || c === 69) /* e E */ && digits > 0) {
      i++;
      let expNeg = false;
      if (i < end && (text.charCodeAt(i) === 45 || text.charCodeAt(i) === 43)) {
        expNeg = text.charCodeAt(i) === 45;
        i++;
      }
      let expDigits = 0;
      for (; i < end; i++) {
        const e = text.charCodeAt(i);
        if (e < 48 || e > 57) break;
        if (exponent < 1000) exponent = exponent * 10 + (e - 48);
        expDigits++;
      }
      if (expDigits === 0 || i !== end) return fail(DecimalError.Malformed);
      if (expNeg) exponent = -exponent;
      break;
    } else {
      return fail(DecimalError.Malformed);
    }
  }
  if (digits === 0) return fail(DecimalError.Malformed);
  // value = mantissa * 10^(exponent + pendingIntZeros - scale); we want value * 10^decimals.
  const shift = decimals + exponent + pendingIntZeros - scale;
  if (overflow) return fail(shift < 0 ? DecimalError.NotExact : DecimalError.Overflow);
  if (mantissa !== 0) {
    if (shift >= 0) {
      for (let k = 0; k < shift; k++) {
        mantissa *= 10;
        if (mantissa > MAX_SAFE) return fail(DecimalError.Overflow);
      }
    } else {
      for (let k = 0; k < -shift; k++) {
        if (mantissa % 10 !== 0) return fail(DecimalError.NotExact);
        mantissa /= 10;
      }
    }
  }
  lastError = DecimalError.None;
  return negative && mantissa !== 0 ? -mantissa : mantissa;
}

function fail(error: DecimalError): number {
  lastError = error;
  return Number.NaN;
}

const ZEROS = "000000000000000000000000000000";

/** Format a mantissa as exact decimal text. `trim` drops trailing fractional zeros ("1.50" -> "1.5"). */
export function formatFixed(mantissa: number, decimals: number, trim = true): string {
  const negative = mantissa < 0;
  let digits = String(negative ? -mantissa : mantissa);
  if (decimals > 0) {
    if (digits.length <= decimals) digits = ZEROS.slice(0, decimals - digits.length + 1) + digits;
    let intPart = digits.slice(0, digits.length - decimals);
    let frac = digits.slice(digits.length - decimals);
    if (trim) {
      let cut = frac.length;
      while (cut > 0 && frac.charCodeAt(cut - 1) === 48) cut--;
      frac = frac.slice(0, cut);
    }
    if (intPart === "") intPart = "0";
    digits = frac.length > 0 ? `${intPart}.${frac}` : intPart;
  }
  return negative ? `-${digits}` : digits;
}

/** Format an exact bigint mantissa (wire values beyond 2^53). */
export function formatFixedBig(mantissa: bigint, decimals: number, trim = true): string {
  const negative = mantissa < 0n;
  let digits = (negative ? -mantissa : mantissa).toString();
  if (decimals > 0) {
    digits = digits.padStart(decimals + 1, "0");
    let frac = digits.slice(digits.length - decimals);
    if (trim) frac = frac.replace(/0+$/, "");
    const intPart = digits.slice(0, digits.length - decimals);
    digits = frac.length > 0 ? `${intPart}.${frac}` : intPart;
  }
  return negative ? `-${digits}` : digits;
}
