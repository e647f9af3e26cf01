// Text formatting for exchange payloads: integer mantissas to decimal text, and the timestamp forms
// each exchange uses. Everything is built from integers so no float ever decides a digit.

const POW10: number[] = [];
for (let i = 0; i <= 18; i++) POW10.push(10 ** i);

/** Mantissa m with d decimals -> "123.4500" (trailing zeros kept). */
export function fixed(m: number, d: number): string {
  if (d === 0) return String(m);
  const neg = m < 0;
  const a = neg ? -m : m;
  const p = POW10[d]!;
  const int = Math.floor(a / p);
  const frac = String(a - int * p).padStart(d, "0");
  return `${neg ? "-" : ""}${int}.${frac}`;
}

/** Mantissa with d decimals, written with `pad` decimals (Binance pads to 8). Requires pad >= d. */
export function padded(m: number, d: number, pad: number): string {
  return pad > d ? fixed(m * POW10[pad - d]!, pad) : fixed(m, d);
}

/** Like fixed() but trailing fractional zeros (and a bare dot) removed: "123.4500" -> "123.45", "2.000" -> "2". */
export function trimmed(m: number, d: number): string {
  const s = fixed(m, d);
  if (d === 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

/** Float value to a mantissa with d decimals (rounded). */
export function toMantissa(value: number, d: number): number {
  return Math.round(value * POW10[d]!);
}

export function pow10(d: number): number {
  return POW10[d]!;
}

/** Wall clock in microseconds since the epoch (fits a safe integer until year 2255). */
export function nowUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

function isoSeconds(ms: number): string {
  // "2023-09-25T07:49:37" from an ISO string without allocation-heavy work per field.
  return new Date(ms).toISOString().slice(0, 19);
}

/** RFC 3339 with exactly 6 fraction digits: "2023-09-25T07:49:37.708706Z" (27 chars, Kraken/Coinbase trades). */
export function rfc3339Us(us: number): string {
  const ms = Math.floor(us / 1000);
  const frac = us - Math.floor(us / 1_000_000) * 1_000_000;
  return `${isoSeconds(ms)}.${String(frac).padStart(6, "0")}Z`;
}

/** RFC 3339 with nanoseconds and trailing zeros trimmed (Coinbase envelope): "…27.834Z", "…35.39625135Z". */
export function rfc3339Trimmed(us: number, extraNs: number): string {
  const ms = Math.floor(us / 1000);
  const fracNs = (us - Math.floor(us / 1_000_000) * 1_000_000) * 1000 + extraNs;
  if (fracNs === 0) return `${isoSeconds(ms)}Z`;
  let frac = String(fracNs).padStart(9, "0");
  let end = frac.length;
  while (frac.charCodeAt(end - 1) === 48) end--;
  frac = frac.slice(0, end);
  return `${isoSeconds(ms)}.${frac}Z`;
}

/**
 * Go's time.Time.String() with a monotonic reading, as Coinbase heartbeats send it:
 * "2026-09-05 22:10:30.25788961 +0000 UTC m=+139651.272674714".
 */
export function goTimeString(us: number, extraNs: number, monotonicNs: number): string {
  const ms = Math.floor(us / 1000);
  const date = isoSeconds(ms).replace("T", " ");
  const fracNs = (us - Math.floor(us / 1_000_000) * 1_000_000) * 1000 + extraNs;
  let frac = "";
  if (fracNs !== 0) {
    frac = `.${String(fracNs).padStart(9, "0")}`;
    let end = frac.length;
    while (frac.charCodeAt(end - 1) === 48) end--;
    frac = frac.slice(0, end);
  }
  const monoSec = Math.floor(monotonicNs / 1e9);
  const monoFrac = String(Math.floor(monotonicNs - monoSec * 1e9)).padStart(9, "0");
  return `${date}${frac} +0000 UTC m=+${monoSec}.${monoFrac}`;
}

/** JSON string literal for a value we know needs no escaping beyond what JSON.stringify does. */
export const q = (s: string): string => JSON.stringify(s);
