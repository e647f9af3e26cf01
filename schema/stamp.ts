// Frame writers that need the host clock or the timestamp parsers (schema/clock.ts reads CLOCK_REALTIME through
// bun:ffi, so they are kept out of frame.ts, which stays importable anywhere). Offsets come from frame.ts only.
import { elapsedSinceNs, setTimeNs, stampNow, writeEpochNs, writeRfc3339Ns } from "./clock.ts";
import { type Exchange, FrameOffset, type Status, writeStatusFrameAt, writeTsRecvParts } from "./frame.ts";

const O_TS_RECV = FrameOffset.tsRecv;
const O_TS_EXCHANGE = FrameOffset.tsExchange;

/** Stamp the host clock (CLOCK_REALTIME ns) into the frame's tsRecv, exactly. */
export function stampTsRecv(view: DataView, offset: number): void {
  stampNow(view, offset + O_TS_RECV);
}

/** Exact ns from the frame's tsRecv to now (both CLOCK_REALTIME on this host): one hop's latency. */
export function hopLatencyNs(view: DataView, offset: number): number {
  return elapsedSinceNs(view, offset + O_TS_RECV);
}

/** tsExchange from RFC 3339 UTC text (Kraken, Coinbase); false if the text is not of that form. */
export function writeTsExchangeRfc3339(
  view: DataView,
  offset: number,
  text: string,
  start = 0,
  end = text.length,
): boolean {
  return writeRfc3339Ns(view, offset + O_TS_EXCHANGE, text, start, end);
}

/** tsExchange from epoch milliseconds or microseconds (Binance), exactly. */
export function writeTsExchangeEpoch(view: DataView, offset: number, value: number, unit: "ms" | "us"): void {
  writeEpochNs(view, offset + O_TS_EXCHANGE, value, unit);
}

/** tsExchange from (seconds, nanoseconds), exactly. */
export function writeTsExchangeSecNs(view: DataView, offset: number, sec: number, nsec: number): void {
  setTimeNs(view, offset + O_TS_EXCHANGE, sec, nsec);
}

// One scratch stamp per process: read the clock once, copy its halves into the frame.
const scratch = new DataView(new ArrayBuffer(8));

/** A whole Status frame stamped now: id = detail, price = count, size 0, tsExchange 0, instrument 0 unless given. */
export function writeStatusFrame(
  view: DataView,
  offset: number,
  status: Status,
  exchange: Exchange,
  seq: number,
  detail: number,
  count: number,
  instrument = 0,
): void {
  stampNow(scratch, 0);
  writeStatusFrameAt(
    view,
    offset,
    status,
    exchange,
    seq,
    detail,
    count,
    scratch.getUint32(0, true),
    scratch.getInt32(4, true),
    instrument,
  );
}

/**
 * One host-clock reading kept as two halves, taken once per exchange message and copied into every frame of
 * it (the collectors' emitter): `take()` reads the clock, `writeTo()` fills a frame's tsRecv.
 */
export class RecvStamp {
  /** Low 32 bits (u32). */
  lo = 0;
  /** High 32 bits (i32). */
  hi = 0;
  private readonly view = new DataView(new ArrayBuffer(8));

  take(): void {
    stampNow(this.view, 0);
    this.lo = this.view.getUint32(0, true);
    this.hi = this.view.getInt32(4, true);
  }

  writeTo(view: DataView, offset: number): void {
    writeTsRecvParts(view, offset, this.lo, this.hi);
  }
}
