// Exact text for a frame's i64 fields. schema/frame.ts readers return doubles, exact only to 2^53, while receive
// stamps are ~1.7e18 ns; exact text needs the two 32-bit halves. The slots are schema/frame.ts's FrameOffset
// (the one definition of the layout); the SLOT_ names stay for the bridge's row and JSON writers.
import { formatFixed, formatFixedBig } from "../schema/decimal.ts";
import { FrameOffset, getI64 } from "../schema/frame.ts";

export const SLOT_PRICE = FrameOffset.price;
export const SLOT_SIZE = FrameOffset.size;
export const SLOT_TS_EXCHANGE = FrameOffset.tsExchange;
export const SLOT_TS_RECV = FrameOffset.tsRecv;
export const SLOT_ID = FrameOffset.id;

/** The high 32-bit word of an i64 slot (little-endian). */
const HI = 4;
const TWO32 = 4294967296;
const TWO21 = 2097152;

/** Exact decimal text of the i64 mantissa at `off` (trailing fractional zeros trimmed). */
export function mantissaText(view: DataView, off: number, decimals: number): string {
  const hi = view.getInt32(off + HI, true);
  if (hi >= -TWO21 && hi < TWO21) return formatFixed(getI64(view, off), decimals);
  return formatFixedBig(view.getBigInt64(off, true), decimals);
}

/** Exact decimal text of the u64 at `off` (trade ids, update ids). */
export function u64Text(view: DataView, off: number): string {
  const hi = view.getUint32(off + HI, true);
  if (hi < TWO21) return String(hi * TWO32 + view.getUint32(off, true));
  return view.getBigUint64(off, true).toString();
}

/** Splits an i64 ns-since-epoch slot into whole seconds and nanoseconds, exactly, without a BigInt. */
export class NsSplit {
  sec = 0;
  nanos = 0;

  /** False for values this fast path does not cover (negative, or past the year 2106): use a BigInt. */
  split(view: DataView, off: number): boolean {
    const hi = view.getInt32(off + HI, true);
    if (hi < 0) return false;
    const lo = view.getUint32(off, true);
    const a = hi * TWO32; // exact: hi has at most 31 significant bits
    let sec = Math.floor((a + lo) / 1e9); // may be off by one: corrected below
    if (sec >= TWO32) return false;
    // sec * 1e9 = sec * 1953125 * 2^9 has at most 52 significant bits, so it is exact, and so is a - b.
    let r = a - sec * 1e9 + lo;
    while (r < 0) {
      r += 1e9;
      sec--;
    }
    while (r >= 1e9) {
      r -= 1e9;
      sec++;
    }
    this.sec = sec;
    this.nanos = r;
    return true;
  }
}

const ZEROS = "000000000";
const split = new NsSplit();

/** Exact decimal text of an i64 ns slot ("1700000000123456789"). */
export function nsText(view: DataView, off: number): string {
  if (!split.split(view, off)) return view.getBigInt64(off, true).toString();
  if (split.sec === 0) return String(split.nanos);
  const n = String(split.nanos);
  return String(split.sec) + ZEROS.slice(n.length) + n;
}
