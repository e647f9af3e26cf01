// Postgres COPY text written straight into a growing byte buffer: digits by integer arithmetic, no strings per
// row. Rows are ASCII, so bytes are the text. This is what keeps the database path cheap on the frame path.
import { NsSplit } from "./exact.ts";

const TWO21 = 2097152;
const TWO32 = 4294967296;

export class CopyWriter {
  private buf: Uint8Array;
  len = 0;
  private readonly scratch = new Uint8Array(24);
  private readonly split = new NsSplit();
  private lastSec = -1;
  /** "YYYY-MM-DD HH:MM:SS" of lastSec, as bytes. */
  private readonly secText = new Uint8Array(32);
  private secLen = 0;

  constructor(initialBytes = 1 << 20) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** The bytes written so far, copied out, and the writer emptied for the next batch. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.len++] = c;
  }

  tab(): void {
    this.byte(9);
  }

  newline(): void {
    this.byte(10);
  }

  /** ASCII text (names, fallbacks). */
  ascii(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
  }

  /** Digits of an integer 0 <= n < 2^53 into scratch, least significant first; returns the count. */
  private digits(n: number): number {
    let d = 0;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      this.scratch[d++] = 48 + (n - q * 10);
      n = q;
    }
    this.scratch[d++] = 48 + n;
    return d;
  }

  /** A safe integer. */
  int(n: number): void {
    if (n < 0) {
      this.byte(45);
      n = -n;
    }
    const d = this.digits(n);
    this.ensure(d);
    for (let i = d - 1; i >= 0; i--) this.buf[this.len++] = this.scratch[i]!;
  }

  /** The exact decimal of an i64 mantissa at `off` with `decimals` fractional digits, trailing zeros trimmed. */
  fixed(view: DataView, off: number, decimals: number): void {
    const hi = view.getInt32(off + 4, true);
    if (hi < -TWO21 || hi >= TWO21) {
      this.bigFixed(view.getBigInt64(off, true), decimals);
      return;
    }
    let m = hi * TWO32 + view.getUint32(off, true);
    if (m < 0) {
      this.byte(45);
      m = -m;
    }
    const d = this.digits(m);
    this.ensure(d + decimals + 2);
    const s = this.scratch;
    const b = this.buf;
    // Integer part: digits above `decimals`, or "0".
    if (d > decimals) for (let i = d - 1; i >= decimals; i--) b[this.len++] = s[i]!;
    else b[this.len++] = 48;
    // Fraction: positions decimals-1 .. 0 (missing high digits are zeros), trailing zeros dropped.
    let low = 0;
    while (low < decimals && low < d && s[low] === 48) low++;
    if (low >= d || low >= decimals) return; // every fraction digit is zero (or there are none)
    b[this.len++] = 46;
    for (let i = decimals - 1; i >= low; i--) b[this.len++] = i < d ? s[i]! : 48;
  }

  private bigFixed(m: bigint, decimals: number): void {
    const neg = m < 0n;
    let digits = (neg ? -m : m).toString().padStart(decimals + 1, "0");
    let frac = digits.slice(digits.length - decimals).replace(/0+$/, "");
    digits = digits.slice(0, digits.length - decimals);
    if (frac.length > 0) frac = `.${frac}`;
    this.ascii(`${neg ? "-" : ""}${digits}${frac}`);
  }

  /** A u64 at `off` (trade ids). */
  u64(view: DataView, off: number): void {
    const hi = view.getUint32(off + 4, true);
    if (hi < TWO21) this.int(hi * TWO32 + view.getUint32(off, true));
    else this.ascii(view.getBigUint64(off, true).toString());
  }

  /** An i64 ns slot as an exact integer. */
  ns(view: DataView, off: number): void {
    if (!this.split.split(view, off)) {
      this.ascii(view.getBigInt64(off, true).toString());
      return;
    }
    if (this.split.sec === 0) {
      this.int(this.split.nanos);
      return;
    }
    this.int(this.split.sec);
    this.padded(this.split.nanos, 9);
  }

  private padded(n: number, width: number): void {
    const d = this.digits(n);
    this.ensure(width);
    for (let i = d; i < width; i++) this.buf[this.len++] = 48;
    for (let i = d - 1; i >= 0; i--) this.buf[this.len++] = this.scratch[i]!;
  }

  /** timestamptz with µs (truncated) from an i64 ns slot: "2024-01-02 03:04:05.678901+00". */
  timestamp(view: DataView, off: number): void {
    let sec: number;
    let nanos: number;
    if (this.split.split(view, off)) {
      sec = this.split.sec;
      nanos = this.split.nanos;
    } else {
      const ns = view.getBigInt64(off, true);
      const s = ns / 1_000_000_000n - (ns % 1_000_000_000n < 0n ? 1n : 0n);
      sec = Number(s);
      nanos = Number(ns - s * 1_000_000_000n);
    }
    if (sec !== this.lastSec) {
      this.lastSec = sec;
      const iso = new Date(sec * 1000).toISOString(); // 2024-01-02T03:04:05.000Z (±YYYYYY beyond 9999)
      const text = `${iso.slice(0, iso.length - 14)} ${iso.slice(iso.length - 13, iso.length - 5)}`;
      this.secLen = text.length;
      for (let i = 0; i < text.length; i++) this.secText[i] = text.charCodeAt(i);
    }
    this.ensure(this.secLen + 10);
    this.buf.set(this.secText.subarray(0, this.secLen), this.len);
    this.len += this.secLen;
    this.buf[this.len++] = 46;
    this.padded(Math.floor(nanos / 1000), 6);
    this.ascii("+00");
  }
}
