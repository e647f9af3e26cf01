// Frames → database rows as COPY text bytes, gathered into batches by size (batchRows) or time (seal() on a
// timer). Runs on the frame path, so it only appends bytes to a buffer: the writer does the I/O later.
import {
  FLAG_TAKER_BUY,
  FLAG_TAKER_SELL,
  frameFlags,
  frameSeq,
  frameSize,
  frameStatus,
  STATUS_NAMES,
} from "../schema/frame.ts";
import { ASK_OFFSET, BID_OFFSET } from "./bbo.ts";
import { CopyWriter } from "./copy-text.ts";
import { SLOT_ID, SLOT_PRICE, SLOT_SIZE, SLOT_TS_EXCHANGE, SLOT_TS_RECV } from "./exact.ts";
import type { Batch, TableName } from "./sink/types.ts";
import type { SymbolEntry } from "./topics.ts";

class RowBuffer {
  readonly w = new CopyWriter();
  private rows = 0;
  constructor(
    private readonly table: TableName,
    private readonly maxRows: number,
    private readonly out: (batch: Batch) => void,
  ) {}

  /** Call after writing one whole row (ending in a newline) to `w`. */
  added(): void {
    if (++this.rows >= this.maxRows) this.seal();
  }

  seal(): void {
    if (this.rows === 0) return;
    const rows = this.rows;
    this.rows = 0;
    this.out({ table: this.table, rows, data: this.w.take() });
  }
}

/** The event time of a frame: the exchange's, or the receive time when the exchange gave none. */
function timeSlot(v: DataView, off: number): number {
  const ex = off + SLOT_TS_EXCHANGE;
  return v.getUint32(ex, true) === 0 && v.getInt32(ex + 4, true) === 0 ? off + SLOT_TS_RECV : ex;
}

const SIDE_BUY = "buy";
const SIDE_SELL = "sell";
const SIDE_UNKNOWN = "unknown";

export class RowEncoder {
  private readonly trades: RowBuffer;
  private readonly bookTops: RowBuffer;
  private readonly feedEvents: RowBuffer;

  constructor(maxRows: number, out: (batch: Batch) => void) {
    this.trades = new RowBuffer("trades", maxRows, out);
    this.bookTops = new RowBuffer("book_tops", maxRows, out);
    this.feedEvents = new RowBuffer("feed_events", maxRows, out);
  }

  /** trades: time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns */
  trade(e: SymbolEntry, v: DataView, off: number): void {
    const inst = e.instrument!;
    const flags = frameFlags(v, off);
    const w = this.trades.w;
    w.timestamp(v, timeSlot(v, off));
    w.tab();
    w.int(e.exchange);
    w.tab();
    w.int(e.instrumentId);
    w.tab();
    w.u64(v, off + SLOT_ID);
    w.tab();
    w.fixed(v, off + SLOT_PRICE, inst.priceDecimals);
    w.tab();
    w.fixed(v, off + SLOT_SIZE, inst.sizeDecimals);
    w.tab();
    w.ascii(flags & FLAG_TAKER_BUY ? SIDE_BUY : flags & FLAG_TAKER_SELL ? SIDE_SELL : SIDE_UNKNOWN);
    w.tab();
    w.int(frameSeq(v, off));
    w.tab();
    w.ns(v, off + SLOT_TS_RECV);
    w.newline();
    this.trades.added();
  }

  /** book_tops: time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size (NULL for an empty side). */
  bookTop(e: SymbolEntry): void {
    const s = e.bboState;
    const inst = e.instrument!;
    const v = s.view;
    const w = this.bookTops.w;
    w.timestamp(v, timeSlot(v, s.lastOffset));
    w.tab();
    w.int(e.exchange);
    w.tab();
    w.int(e.instrumentId);
    for (const [has, at] of [
      [s.hasBid, BID_OFFSET],
      [s.hasAsk, ASK_OFFSET],
    ] as const) {
      w.tab();
      if (has && frameSize(v, at) !== 0) {
        w.fixed(v, at + SLOT_PRICE, inst.priceDecimals);
        w.tab();
        w.fixed(v, at + SLOT_SIZE, inst.sizeDecimals);
      } else {
        w.ascii("\\N\t\\N");
      }
    }
    w.newline();
    this.bookTops.added();
  }

  /** feed_events: time, exchange, instrument_id, event, detail, count, seq */
  status(e: SymbolEntry, v: DataView, off: number): void {
    const code = frameStatus(v, off);
    const w = this.feedEvents.w;
    w.timestamp(v, timeSlot(v, off));
    w.tab();
    w.int(e.exchange);
    w.tab();
    w.int(e.instrumentId);
    w.tab();
    w.ascii(STATUS_NAMES[code] ?? `status_${code}`);
    w.tab();
    w.u64(v, off + SLOT_ID);
    w.tab();
    w.fixed(v, off + SLOT_PRICE, 0);
    w.tab();
    w.int(frameSeq(v, off));
    w.newline();
    this.feedEvents.added();
  }

  /** Hand every partly filled batch to the writer (the batch timer, and shutdown). */
  seal(): void {
    this.trades.seal();
    this.bookTops.seal();
    this.feedEvents.seal();
  }
}
