// Frames → the JSON messages of docs/stream-api.md, typed in schema/messages.ts (format.test.ts checks every
// message written here against those types). Each message is built once, as one string, however many clients
// receive it. Prices and sizes are exact decimal strings; times are ns-since-epoch strings.
import { formatFixed } from "../schema/decimal.ts";
import {
  FLAG_ASK,
  FLAG_BACKFILL,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  FLAG_TAKER_BUY,
  FLAG_TAKER_SELL,
  FRAME_SIZE,
  frameFlags,
  frameId,
  framePrice,
  frameSeq,
  frameStatus,
  RESYNC_REASON_NAMES,
  STATUS_NAMES,
  Status,
} from "../schema/frame.ts";
import { ASK_OFFSET, BID_OFFSET } from "./bbo.ts";
import {
  mantissaText,
  nsText,
  SLOT_ID,
  SLOT_PRICE,
  SLOT_SIZE,
  SLOT_TS_EXCHANGE,
  SLOT_TS_RECV,
  u64Text,
} from "./exact.ts";
import type { SymbolEntry } from "./topics.ts";

/** A time field: "ns" as a string, or null when the slot is 0 (the exchange gave no time). */
function nsField(v: DataView, off: number): string {
  if (v.getUint32(off, true) === 0 && v.getInt32(off + 4, true) === 0) return "null";
  return `"${nsText(v, off)}"`;
}

/** `"seq":..,"tsExchange":..,"tsRecv":..}` — the tail every message shares, from the frame at `off`. */
function tail(v: DataView, off: number): string {
  return `"seq":${frameSeq(v, off)},"tsExchange":${nsField(v, off + SLOT_TS_EXCHANGE)},"tsRecv":${nsField(v, off + SLOT_TS_RECV)}}`;
}

export function tradeJson(e: SymbolEntry, v: DataView, off: number): string {
  const inst = e.instrument!;
  const flags = frameFlags(v, off);
  const side = flags & FLAG_TAKER_BUY ? "buy" : flags & FLAG_TAKER_SELL ? "sell" : "unknown";
  const backfill = flags & FLAG_BACKFILL ? `"backfill":true,` : "";
  return `{"type":"trade",${e.head},"price":"${mantissaText(v, off + SLOT_PRICE, inst.priceDecimals)}","size":"${mantissaText(v, off + SLOT_SIZE, inst.sizeDecimals)}","side":"${side}","tradeId":"${u64Text(v, off + SLOT_ID)}",${backfill}${tail(v, off)}`;
}

export function statusJson(e: SymbolEntry, v: DataView, off: number): string {
  const code = frameStatus(v, off);
  const detail = frameId(v, off);
  const reason = code === Status.BookResync ? `"reason":"${RESYNC_REASON_NAMES[detail] ?? "unknown"}",` : "";
  return `{"type":"status",${e.head},"status":"${STATUS_NAMES[code] ?? `status_${code}`}","detail":${detail},"count":${framePrice(v, off)},${reason}${tail(v, off)}`;
}

export function bboJson(e: SymbolEntry): string {
  const s = e.bboState;
  const v = s.view;
  const inst = e.instrument!;
  const bid = s.hasBid
    ? `"bidPrice":"${mantissaText(v, BID_OFFSET + SLOT_PRICE, inst.priceDecimals)}","bidSize":"${mantissaText(v, BID_OFFSET + SLOT_SIZE, inst.sizeDecimals)}"`
    : `"bidPrice":null,"bidSize":null`;
  const ask = s.hasAsk
    ? `"askPrice":"${mantissaText(v, ASK_OFFSET + SLOT_PRICE, inst.priceDecimals)}","askSize":"${mantissaText(v, ASK_OFFSET + SLOT_SIZE, inst.sizeDecimals)}"`
    : `"askPrice":null,"askSize":null`;
  return `{"type":"bbo",${e.head},${bid},${ask},${tail(v, s.lastOffset)}`;
}

/** One exchange update (the grouped frames, plus deletes for levels truncated by depth) as one message. */
export function bookUpdateJson(e: SymbolEntry): string {
  const st = e.bookState;
  const g = st.group;
  const inst = e.instrument!;
  let bids = "";
  let asks = "";
  let snapshot = false;
  let reset = false;
  for (let i = 0, off = 0; i < st.groupFrames; i++, off += FRAME_SIZE) {
    const flags = frameFlags(g, off);
    if (flags & FLAG_SNAPSHOT) snapshot = true;
    if (flags & FLAG_BEGIN) reset = true;
    const level = `["${mantissaText(g, off + SLOT_PRICE, inst.priceDecimals)}","${mantissaText(g, off + SLOT_SIZE, inst.sizeDecimals)}"]`;
    if (flags & FLAG_ASK) asks = asks.length === 0 ? level : `${asks},${level}`;
    else bids = bids.length === 0 ? level : `${bids},${level}`;
  }
  for (let i = 0; i < st.truncatedPrice.length; i++) {
    const level = `["${formatFixed(st.truncatedPrice[i]!, inst.priceDecimals)}","0"]`;
    if (st.truncatedAsk[i]) asks = asks.length === 0 ? level : `${asks},${level}`;
    else bids = bids.length === 0 ? level : `${bids},${level}`;
  }
  const last = (st.groupFrames - 1) * FRAME_SIZE;
  const partial = frameFlags(g, last) & FLAG_END ? "" : `"partial":true,`;
  return `{"type":"book",${e.head},"snapshot":${snapshot},"reset":${reset},${partial}"bids":[${bids}],"asks":[${asks}],"updateId":"${u64Text(g, last + SLOT_ID)}",${tail(g, last)}`;
}

function levelsJson(levels: number[], priceDecimals: number, sizeDecimals: number): string {
  let out = "";
  for (let i = 0; i < levels.length; i += 2) {
    if (i > 0) out += ",";
    out += `["${formatFixed(levels[i]!, priceDecimals)}","${formatFixed(levels[i + 1]!, sizeDecimals)}"]`;
  }
  return out;
}

/** The bridge's own book as a snapshot (for a new subscriber or a client leaving conflation); null if none yet. */
export function bookSnapshotJson(e: SymbolEntry): string | null {
  const st = e.bookState;
  if (!st.hasLast) return null;
  const inst = e.instrument!;
  const bids = levelsJson(st.levels(false), inst.priceDecimals, inst.sizeDecimals);
  const asks = levelsJson(st.levels(true), inst.priceDecimals, inst.sizeDecimals);
  return `{"type":"book",${e.head},"snapshot":true,"reset":true,"cached":true,"bids":[${bids}],"asks":[${asks}],"updateId":"${u64Text(st.last, SLOT_ID)}",${tail(st.last, 0)}`;
}
