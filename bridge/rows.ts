// Frames → database rows as COPY text bytes. Runs on the frame path, so it only appends bytes to buffers; the
// writer does the I/O later. Each table's fields are written by one writer per column, keyed by the Drizzle
// table's column names and ordered by its declaration (sink/tables.ts), so the COPY column list and the bytes
// cannot disagree, and a column added to schema/db/market.ts fails to compile here until it is written.
// All tables are sealed together into one Batch with the relay position it reaches: the writer commits both
// in one transaction (docs/storage.md).
import type { PgTable } from "drizzle-orm/pg-core";
import {
  FLAG_TAKER_BUY,
  FLAG_TAKER_SELL,
  frameExchange,
  frameFlags,
  frameSeq,
  frameSize,
  frameStatus,
  STATUS_NAMES,
} from "../schema/frame.ts";
import { ASK_OFFSET, BID_OFFSET } from "./bbo.ts";
import { CopyWriter } from "./copy-text.ts";
import { SLOT_ID, SLOT_PRICE, SLOT_SIZE, SLOT_TS_EXCHANGE, SLOT_TS_RECV } from "./exact.ts";
import { COPY_TABLES, type ColumnKey, columnKeys, TABLE_NAMES, type TableName } from "./sink/tables.ts";
import type { Batch, RelayPosition, TableRows } from "./sink/types.ts";
import type { SymbolEntry } from "./topics.ts";

/** Writes one field of a row from the frame at `off` in `v` (or, for book_tops, the BBO state's view). */
type FieldWriter = (w: CopyWriter, e: SymbolEntry, v: DataView, off: number) => void;
type RowSpec<T extends PgTable> = { readonly [K in ColumnKey<T>]: FieldWriter };

/** The event time of a frame: the exchange's, or the receive time when the exchange gave none. */
function timeSlot(v: DataView, off: number): number {
  const ex = off + SLOT_TS_EXCHANGE;
  return v.getUint32(ex, true) === 0 && v.getInt32(ex + 4, true) === 0 ? off + SLOT_TS_RECV : ex;
}

const time: FieldWriter = (w, _e, v, off) => w.timestamp(v, timeSlot(v, off));
const exchange: FieldWriter = (w, e) => w.int(e.exchange);
const instrumentId: FieldWriter = (w, e) => w.int(e.instrumentId);
const seq: FieldWriter = (w, _e, v, off) => w.int(frameSeq(v, off));
const recvNs: FieldWriter = (w, _e, v, off) => w.ns(v, off + SLOT_TS_RECV);
const price: FieldWriter = (w, e, v, off) => w.fixed(v, off + SLOT_PRICE, e.instrument!.priceDecimals);
const size: FieldWriter = (w, e, v, off) => w.fixed(v, off + SLOT_SIZE, e.instrument!.sizeDecimals);

/** A BBO side's price or size; NULL for a side never seen or empty (size 0). */
function topField(at: number, slot: number, decimals: "priceDecimals" | "sizeDecimals"): FieldWriter {
  return (w, e, v) => {
    const has = at === BID_OFFSET ? e.bboState.hasBid : e.bboState.hasAsk;
    if (has && frameSize(v, at) !== 0) w.fixed(v, at + slot, e.instrument![decimals]);
    else w.ascii("\\N");
  };
}

const SPECS: { readonly [T in TableName]: RowSpec<(typeof COPY_TABLES)[T]> } = {
  trades: {
    time,
    exchange,
    instrumentId,
    tradeId: (w, _e, v, off) => w.u64(v, off + SLOT_ID),
    price,
    size,
    side: (w, _e, v, off) => {
      const flags = frameFlags(v, off);
      w.ascii(flags & FLAG_TAKER_BUY ? "buy" : flags & FLAG_TAKER_SELL ? "sell" : "unknown");
    },
    seq,
    recvNs,
  },
  book_tops: {
    time,
    exchange,
    instrumentId,
    bidPrice: topField(BID_OFFSET, SLOT_PRICE, "priceDecimals"),
    bidSize: topField(BID_OFFSET, SLOT_SIZE, "sizeDecimals"),
    askPrice: topField(ASK_OFFSET, SLOT_PRICE, "priceDecimals"),
    askSize: topField(ASK_OFFSET, SLOT_SIZE, "sizeDecimals"),
  },
  feed_events: {
    time,
    exchange,
    instrumentId,
    event: (w, _e, v, off) => {
      const code = frameStatus(v, off);
      w.ascii(STATUS_NAMES[code] ?? `status_${code}`);
    },
    detail: (w, _e, v, off) => w.u64(v, off + SLOT_ID),
    count: (w, _e, v, off) => w.fixed(v, off + SLOT_PRICE, 0),
    seq,
  },
  book_changes: {
    time,
    exchange,
    instrumentId,
    flags: (w, _e, v, off) => w.int(frameFlags(v, off)),
    price,
    size,
    updateId: (w, _e, v, off) => w.u64(v, off + SLOT_ID),
    seq,
    recvNs,
  },
};

class TableBuffer {
  readonly w = new CopyWriter();
  rows = 0;
  private readonly fields: FieldWriter[];

  constructor(readonly table: TableName) {
    const spec = SPECS[table] as Record<string, FieldWriter>;
    this.fields = columnKeys(COPY_TABLES[table]).map((key) => spec[key]!);
  }

  /** Append one row; returns the rows now buffered. */
  add(e: SymbolEntry, v: DataView, off: number): number {
    const fields = this.fields;
    const w = this.w;
    fields[0]!(w, e, v, off);
    for (let i = 1; i < fields.length; i++) {
      w.tab();
      fields[i]!(w, e, v, off);
    }
    w.newline();
    return ++this.rows;
  }

  take(): TableRows {
    const rows = this.rows;
    this.rows = 0;
    return { table: this.table, rows, data: this.w.take() };
  }
}

const MAX_EXCHANGE = 16;

export class RowEncoder {
  private readonly buffers = TABLE_NAMES.map((t) => new TableBuffer(t));
  private readonly byTable = Object.fromEntries(this.buffers.map((b) => [b.table, b])) as Record<
    TableName,
    TableBuffer
  >;
  /** Per exchange: the last frame whose rows are buffered (seq, and its tsRecv's 8 bytes). */
  private readonly lastSeq = new Float64Array(MAX_EXCHANGE);
  private readonly lastRecv = new DataView(new ArrayBuffer(8 * MAX_EXCHANGE));
  private readonly advanced = new Uint8Array(MAX_EXCHANGE);

  constructor(
    private readonly maxRows: number,
    private readonly out: (batch: Batch) => void,
  ) {}

  private added(buffer: TableBuffer, e: SymbolEntry, v: DataView, off: number): void {
    if (buffer.add(e, v, off) >= this.maxRows) this.seal();
  }

  /** The frame's rows are buffered: the position moves to it. */
  private reached(v: DataView, off: number): void {
    const ex = frameExchange(v, off);
    this.lastSeq[ex] = frameSeq(v, off);
    const recv = off + SLOT_TS_RECV;
    this.lastRecv.setUint32(ex * 8, v.getUint32(recv, true), true);
    this.lastRecv.setUint32(ex * 8 + 4, v.getUint32(recv + 4, true), true);
    this.advanced[ex] = 1;
  }

  trade(e: SymbolEntry, v: DataView, off: number): void {
    this.reached(v, off);
    this.added(this.byTable.trades, e, v, off);
  }

  /** The BBO of `e` as sampled now (not a relay position: samples are not replayed). */
  bookTop(e: SymbolEntry): void {
    this.added(this.byTable.book_tops, e, e.bboState.view, e.bboState.lastOffset);
  }

  status(e: SymbolEntry, v: DataView, off: number): void {
    this.reached(v, off);
    this.added(this.byTable.feed_events, e, v, off);
  }

  /** One book level frame, as received: every snapshot, delta and update boundary is kept. */
  bookChange(e: SymbolEntry, v: DataView, off: number): void {
    this.reached(v, off);
    this.added(this.byTable.book_changes, e, v, off);
  }

  /** Hand every buffered row, and the position they reach, to the writer as one Batch (timer, size, shutdown). */
  seal(): void {
    const parts: TableRows[] = [];
    for (const b of this.buffers) if (b.rows > 0) parts.push(b.take());
    if (parts.length === 0) return;
    const positions: RelayPosition[] = [];
    for (let ex = 0; ex < MAX_EXCHANGE; ex++) {
      if (!this.advanced[ex]) continue;
      this.advanced[ex] = 0;
      positions.push({
        exchange: ex,
        seq: this.lastSeq[ex]!,
        recvNs: this.lastRecv.getBigInt64(ex * 8, true),
      });
    }
    this.out({ parts, positions });
  }
}
