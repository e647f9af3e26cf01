// Host wall clock in nanoseconds, shared by every process on one host.
// Bun's process.hrtime/Bun.nanoseconds count from process start, so they cannot stamp a frame that crosses
// processes; we read CLOCK_REALTIME through libc instead (~70 ns a call) into a preallocated timespec.
import { dlopen, FFIType, ptr } from "bun:ffi";

const CLOCK_REALTIME = 0;
const TWO32 = 4294967296;

const libc = (() => {
  for (const name of ["libc.so.6", "libc.dylib", "libSystem.B.dylib"]) {
    try {
      return dlopen(name, { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
    } catch {
      // try the next name; a platform without any falls back to Date below
    }
  }
  return null;
})();

// Its own ArrayBuffer: a small inline typed array can be moved by the GC, leaving FFI a stale pointer.
const timespec = new Int32Array(new ArrayBuffer(16)); // struct timespec { i64 tv_sec; i64 tv_nsec } on 64-bit Linux
const timespecPtr = libc ? ptr(timespec) : 0;

/** Read the clock into the shared timespec; returns false when only Date is available. */
function read(): boolean {
  if (libc) {
    libc.symbols.clock_gettime(CLOCK_REALTIME, timespecPtr);
    return true;
  }
  return false;
}

/**
 * Write an exact i64 ns-since-epoch value from (seconds, nanoseconds) without a BigInt.
 * The product sec*1e9 exceeds 2^53, so it is assembled from 16-bit pieces that stay exact.
 */
export function setTimeNs(view: DataView, offset: number, sec: number, nsec: number): void {
  const secHi = Math.floor(sec / 65536);
  const secLo = sec - secHi * 65536;
  const a = secHi * 1e9;
  const b = secLo * 1e9 + nsec;
  const aHi = Math.floor(a / 65536);
  const c = (a - aHi * 65536) * 65536 + b;
  const cHi = Math.floor(c / TWO32);
  view.setUint32(offset, c - cHi * TWO32, true);
  view.setInt32(offset + 4, aHi + cHi, true);
}

/** Stamp the host clock (CLOCK_REALTIME, ns since the Unix epoch) into an i64 slot, exactly. */
export function stampNow(view: DataView, offset: number): void {
  if (read()) {
    setTimeNs(view, offset, timespec[1]! * TWO32 + (timespec[0]! >>> 0), timespec[2]!);
  } else {
    const ms = Date.now();
    setTimeNs(view, offset, Math.floor(ms / 1000), (ms % 1000) * 1e6);
  }
}

/** Host clock as ns since the epoch in a double (256 ns granularity): for display and coarse maths. */
export function nowNs(): number {
  if (read()) return (timespec[1]! * TWO32 + (timespec[0]! >>> 0)) * 1e9 + timespec[2]!;
  return Date.now() * 1e6;
}

const scratch = new DataView(new ArrayBuffer(8));
/** Exact ns elapsed between an i64 ns slot and now (for hop latency); safe for spans under ~104 days. */
export function elapsedSinceNs(view: DataView, offset: number): number {
  stampNow(scratch, 0);
  const hi = scratch.getInt32(4, true) - view.getInt32(offset + 4, true);
  const lo = scratch.getUint32(0, true) - view.getUint32(offset, true);
  return hi * TWO32 + lo;
}

/**
 * Parse an RFC 3339 UTC timestamp ("2023-09-25T07:49:37.708706Z", any number of fractional digits,
 * Kraken/Coinbase style) into an i64 ns slot. Returns false if the text is not of that form.
 */
export function writeRfc3339Ns(
  view: DataView,
  offset: number,
  text: string,
  start = 0,
  end = text.length,
): boolean {
  if (end - start < 20) return false;
  const year = num(text, start, 4);
  const month = num(text, start + 5, 2);
  const day = num(text, start + 8, 2);
  const hour = num(text, start + 11, 2);
  const minute = num(text, start + 14, 2);
  const second = num(text, start + 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 60) return false;
  let i = start + 19;
  let nanos = 0;
  if (text.charCodeAt(i) === 46 /* . */) {
    i++;
    let digits = 0;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      if (digits < 9) nanos = nanos * 10 + (c - 48);
      digits++;
    }
    if (digits === 0) return false;
    for (; digits < 9; digits++) nanos *= 10;
  }
  const z = text.charCodeAt(i);
  if (!(z === 90 /* Z */ || z === 122) || i + 1 !== end) return false;
  const secs = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  setTimeNs(view, offset, secs, nanos);
  return true;
}

function num(text: string, at: number, len: number): number {
  let v = 0;
  for (let k = 0; k < len; k++) {
    const c = text.charCodeAt(at + k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 for a proleptic Gregorian date.
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Write epoch milliseconds (Binance E/T) or microseconds (timeUnit=MICROSECOND) as ns, exactly. */
export function writeEpochNs(view: DataView, offset: number, value: number, unit: "ms" | "us"): void {
  if (unit === "ms") {
    const sec = Math.floor(value / 1000);
    setTimeNs(view, offset, sec, (value - sec * 1000) * 1e6);
  } else {
    const sec = Math.floor(value / 1e6);
    setTimeNs(view, offset, sec, (value - sec * 1e6) * 1000);
  }
}
