// Exact decimal arithmetic on BigInt for money in the browser (order notional, live PnL): value = m / 10^s.
// Nothing here goes through a float.

export interface Dec {
  readonly m: bigint;
  readonly s: number;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/** Parse "123.45", "-0.5", "7"; null when the text is not a plain decimal. */
export function parseDec(text: string): Dec | null {
  const match = DECIMAL.exec(text.trim());
  if (!match) return null;
  const frac = match[3] ?? "";
  const m = BigInt(match[2]! + frac);
  return { m: match[1] === "-" ? -m : m, s: frac.length };
}

export function dec(text: string): Dec {
  const d = parseDec(text);
  if (!d) throw new Error(`not a decimal: ${JSON.stringify(text)}`);
  return d;
}

const TEN = 10n;
function rescale(d: Dec, s: number): bigint {
  return s === d.s ? d.m : d.m * TEN ** BigInt(s - d.s);
}

export function add(a: Dec, b: Dec): Dec {
  const s = Math.max(a.s, b.s);
  return { m: rescale(a, s) + rescale(b, s), s };
}

export function sub(a: Dec, b: Dec): Dec {
  const s = Math.max(a.s, b.s);
  return { m: rescale(a, s) - rescale(b, s), s };
}

export function mul(a: Dec, b: Dec): Dec {
  return { m: a.m * b.m, s: a.s + b.s };
}

export function cmp(a: Dec, b: Dec): number {
  const s = Math.max(a.s, b.s);
  const x = rescale(a, s);
  const y = rescale(b, s);
  return x < y ? -1 : x > y ? 1 : 0;
}

export const isZero = (d: Dec): boolean => d.m === 0n;

/** Exact text, trailing fractional zeros trimmed ("1.50" -> "1.5"). */
export function format(d: Dec): string {
  const negative = d.m < 0n;
  let digits = (negative ? -d.m : d.m).toString();
  if (d.s > 0) {
    digits = digits.padStart(d.s + 1, "0");
    const frac = digits.slice(digits.length - d.s).replace(/0+$/, "");
    const int = digits.slice(0, digits.length - d.s);
    digits = frac ? `${int}.${frac}` : int;
  }
  return negative && digits !== "0" ? `-${digits}` : digits;
}

/** Round half away from zero to `places` fractional digits (display of a product), exact text. */
export function round(d: Dec, places: number): Dec {
  if (d.s <= places) return d;
  const f = TEN ** BigInt(d.s - places);
  const q = d.m / f;
  const r = d.m % f;
  const up = (r < 0n ? -r : r) * 2n >= f;
  return { m: up ? q + (d.m < 0n ? -1n : 1n) : q, s: places };
}

/** Count fractional digits of decimal text (for the instrument's size/price decimals check). */
export function fractionDigits(text: string): number {
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : text.length - dot - 1;
}
