// The tapewire wire frame: fixed 48 bytes, little-endian. The byte table is in docs/wire-format.md;
// this file is the only place that knows offsets.

export const FRAME_SIZE = 48;
export const WIRE_VERSION = 1;

export const Kind = {
  Trade: 1,
  BookLevel: 2,
  Bbo: 3,
  Status: 4,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];
/** Kind names in wire-code order (index + 1 = code): the one list every process and the browser use. */
export const KINDS = ["trade", "book", "bbo", "status"] as const;
export type KindName = (typeof KINDS)[number];
export const KIND_NAMES: Record<number, KindName> = { 1: "trade", 2: "book", 3: "bbo", 4: "status" };
export const KIND_IDS: Record<KindName, Kind> = { trade: 1, book: 2, bbo: 3, status: 4 };

export const Exchange = { Kraken: 1, Coinbase: 2, Binance: 3 } as const;
export type Exchange = (typeof Exchange)[keyof typeof Exchange];
/** The exchange list in wire-code order (index + 1 = code): the only definition of it. */
export const EXCHANGES = ["kraken", "coinbase", "binance"] as const;
export type ExchangeName = (typeof EXCHANGES)[number];
export const EXCHANGE_NAMES: Record<number, ExchangeName> = { 1: "kraken", 2: "coinbase", 3: "binance" };
export const EXCHANGE_IDS: Record<ExchangeName, Exchange> = { kraken: 1, coinbase: 2, binance: 3 };
export const isExchangeName = (s: unknown): s is ExchangeName =>
  typeof s === "string" && (EXCHANGES as readonly string[]).includes(s);

// Flags live in the high nibble of byte 0; their meaning depends on the kind.
/** Trade: the aggressor (taker) bought. Neither buy nor sell set = unknown. */
export const FLAG_TAKER_BUY = 0x10;
/** Trade: the aggressor (taker) sold. */
export const FLAG_TAKER_SELL = 0x20;
/** Trade: fetched from the exchange's REST history to close a gap, not received live. */
export const FLAG_BACKFILL = 0x40;
/** Book level / BBO: the ask side (unset = bid). */
export const FLAG_ASK = 0x10;
/** Book level: this level belongs to a snapshot. */
export const FLAG_SNAPSHOT = 0x20;
/** Book level: first frame of a snapshot; the consumer clears its book for this instrument first. */
export const FLAG_BEGIN = 0x40;
/** Book level / BBO: last frame of one atomic exchange update (end of a snapshot or of a delta message). */
export const FLAG_END = 0x80;

/** Status codes, carried in the flag nibble of a Status frame. */
export const Status = {
  /** First frame a collector sends after it starts (sequence 0): detail = pid, price = start time ms. */
  CollectorStart: 0,
  Connected: 1,
  Disconnected: 2,
  /** A symbol stopped updating for longer than its normal rate allows. detail = silence in ms. */
  Stale: 3,
  /** A stale symbol is flowing again. */
  Fresh: 4,
  /** A symbol's book is being rebuilt. detail = ResyncReason. */
  BookResync: 5,
  /** Loss upstream: exchange sequence gap (detail = first missing, price = count missing). */
  Gap: 6,
  Heartbeat: 7,
  /** Exchange trade ids skipped: detail = first missing id, price = count missing. */
  TradeGap: 8,
  /** Relay: frames were lost between a collector and the relay (detail = first missing seq, price = count). */
  RelayGap: 9,
  /** Relay: a consumer fell behind; frames after this one were dropped for it (detail = frames dropped). */
  SlowConsumer: 10,
  /** Collector: frames dropped because the relay was away longer than the buffer holds (detail = count). */
  BufferOverflow: 11,
  /** Book snapshot applied after a resync: the symbol's book is trustworthy again. */
  BookSynced: 12,
  /** A value could not be represented exactly and the message was skipped (detail = count so far). */
  Unrepresentable: 13,
  /** Relay → collector on the ingest socket: frames up to `seq` are journaled (see relay/README.md). */
  Ack: 14,
} as const;
export type Status = (typeof Status)[keyof typeof Status];
export const STATUS_NAMES: Record<number, string> = {
  0: "collector_start",
  1: "connected",
  2: "disconnected",
  3: "stale",
  4: "fresh",
  5: "book_resync",
  6: "gap",
  7: "heartbeat",
  8: "trade_gap",
  9: "relay_gap",
  10: "slow_consumer",
  11: "buffer_overflow",
  12: "book_synced",
  13: "unrepresentable",
  14: "ack",
};

export const ResyncReason = {
  Checksum: 1,
  SequenceGap: 2,
  CrossedBook: 3,
  Reconnect: 4,
  Requested: 5,
  /** The exchange's checksum field itself was missing or malformed (not a mismatch). */
  BadChecksumField: 6,
  /** A level in the update was malformed or not representable exactly. */
  BadLevel: 7,
} as const;
export type ResyncReason = (typeof ResyncReason)[keyof typeof ResyncReason];
export const RESYNC_REASON_NAMES: Record<number, string> = {
  1: "checksum",
  2: "sequence_gap",
  3: "crossed_book",
  4: "reconnect",
  5: "requested",
  6: "bad_checksum_field",
  7: "bad_level",
};

/**
 * Byte offset of each field in a frame (docs/wire-format.md). The only place offsets are written down: code
 * that needs raw access (copying stamps, batch status frames) uses these, never a literal.
 */
export const FrameOffset = {
  kindFlags: 0,
  versionExchange: 1,
  instrument: 2,
  seq: 4,
  id: 8,
  price: 16,
  size: 24,
  tsExchange: 32,
  tsRecv: 40,
} as const;
const O_KIND = FrameOffset.kindFlags;
const O_VER_EX = FrameOffset.versionExchange;
const O_INSTRUMENT = FrameOffset.instrument;
const O_SEQ = FrameOffset.seq;
const O_ID = FrameOffset.id;
const O_PRICE = FrameOffset.price;
const O_SIZE = FrameOffset.size;
const O_TS_EXCHANGE = FrameOffset.tsExchange;
const O_TS_RECV = FrameOffset.tsRecv;

const TWO32 = 4294967296;

/** Write a safe integer as i64 LE without allocating a BigInt. */
export function setI64(view: DataView, offset: number, value: number): void {
  const hi = Math.floor(value / TWO32);
  view.setUint32(offset, value - hi * TWO32, true);
  view.setInt32(offset + 4, hi, true);
}

/** Read an i64 LE as a number: exact for |v| <= 2^53, nearest double beyond. */
export function getI64(view: DataView, offset: number): number {
  return view.getInt32(offset + 4, true) * TWO32 + view.getUint32(offset, true);
}

/** Read a u64 LE as a number: exact up to 2^53. */
export function getU64(view: DataView, offset: number): number {
  return view.getUint32(offset + 4, true) * TWO32 + view.getUint32(offset, true);
}

export function setU64(view: DataView, offset: number, value: number): void {
  const hi = Math.floor(value / TWO32);
  view.setUint32(offset, value - hi * TWO32, true);
  view.setUint32(offset + 4, hi, true);
}

/** Fields of one frame as plain data (tests, tools, the edges). The hot path uses the accessors. */
export interface FrameFields {
  kind: Kind;
  flags: number;
  exchange: Exchange;
  instrument: number;
  seq: number;
  /** Trade id (trade), exchange update id or checksum (book), status detail (status). */
  id: number;
  price: number;
  size: number;
  /** ns since the Unix epoch, exchange clock; 0 if the exchange gave none. */
  tsExchange: number;
  /** ns since the Unix epoch, CLOCK_REALTIME of the collector host at WebSocket receipt. */
  tsRecv: number;
}

/** Encode into a caller's buffer at `offset`; allocates nothing. */
export function encodeFrame(view: DataView, offset: number, f: FrameFields): void {
  view.setUint8(offset + O_KIND, (f.kind & 0x0f) | (f.flags & 0xf0));
  view.setUint8(offset + O_VER_EX, (WIRE_VERSION << 4) | (f.exchange & 0x0f));
  view.setUint16(offset + O_INSTRUMENT, f.instrument, true);
  view.setUint32(offset + O_SEQ, f.seq >>> 0, true);
  setU64(view, offset + O_ID, f.id);
  setI64(view, offset + O_PRICE, f.price);
  setI64(view, offset + O_SIZE, f.size);
  setI64(view, offset + O_TS_EXCHANGE, f.tsExchange);
  setI64(view, offset + O_TS_RECV, f.tsRecv);
}

// Field-at-a-time writers for producers that fill a frame in place (the collectors).
export const writeHeader = (
  view: DataView,
  offset: number,
  kind: Kind,
  flags: number,
  exchange: Exchange,
  instrument: number,
): void => {
  view.setUint8(offset + O_KIND, (kind & 0x0f) | (flags & 0xf0));
  view.setUint8(offset + O_VER_EX, (WIRE_VERSION << 4) | (exchange & 0x0f));
  view.setUint16(offset + O_INSTRUMENT, instrument, true);
};
export const writeSeq = (view: DataView, offset: number, seq: number): void =>
  view.setUint32(offset + O_SEQ, seq >>> 0, true);
export const writeId = (view: DataView, offset: number, id: number): void => setU64(view, offset + O_ID, id);
export const writePrice = (view: DataView, offset: number, m: number): void =>
  setI64(view, offset + O_PRICE, m);
export const writeSize = (view: DataView, offset: number, m: number): void =>
  setI64(view, offset + O_SIZE, m);
export const writeTsExchange = (view: DataView, offset: number, ns: number): void =>
  setI64(view, offset + O_TS_EXCHANGE, ns);
export const writeTsRecv = (view: DataView, offset: number, ns: number): void =>
  setI64(view, offset + O_TS_RECV, ns);
export const setFlags = (view: DataView, offset: number, flags: number): void =>
  view.setUint8(offset, (view.getUint8(offset) & 0x0f) | (flags & 0xf0));

// Readers: a DataView over the received buffer, no copies.
export const frameKind = (view: DataView, offset: number): number => view.getUint8(offset + O_KIND) & 0x0f;
export const frameFlags = (view: DataView, offset: number): number => view.getUint8(offset + O_KIND) & 0xf0;
export const frameVersion = (view: DataView, offset: number): number => view.getUint8(offset + O_VER_EX) >> 4;
export const frameExchange = (view: DataView, offset: number): number =>
  view.getUint8(offset + O_VER_EX) & 0x0f;
export const frameInstrument = (view: DataView, offset: number): number =>
  view.getUint16(offset + O_INSTRUMENT, true);
export const frameSeq = (view: DataView, offset: number): number => view.getUint32(offset + O_SEQ, true);
export const frameId = (view: DataView, offset: number): number => getU64(view, offset + O_ID);
export const framePrice = (view: DataView, offset: number): number => getI64(view, offset + O_PRICE);
export const frameSize = (view: DataView, offset: number): number => getI64(view, offset + O_SIZE);
export const frameTsExchange = (view: DataView, offset: number): number =>
  getI64(view, offset + O_TS_EXCHANGE);
export const frameTsRecv = (view: DataView, offset: number): number => getI64(view, offset + O_TS_RECV);
/** Status frames carry their code in the flag nibble. */
export const frameStatus = (view: DataView, offset: number): number => view.getUint8(offset + O_KIND) >> 4;

// Raw-byte readers for hot loops that walk a Uint8Array without a DataView (relay ingest, filters, decoder).
/** (exchange << 4) | kind: the index of per-(exchange, kind) tables, from bytes 0 and 1's low nibbles. */
export const byteKindIndex = (bytes: Uint8Array, off: number): number =>
  ((bytes[off + O_VER_EX]! & 0x0f) << 4) | (bytes[off + O_KIND]! & 0x0f);
export const byteKind = (bytes: Uint8Array, off: number): number => bytes[off + O_KIND]! & 0x0f;
export const byteFlags = (bytes: Uint8Array, off: number): number => bytes[off + O_KIND]! & 0xf0;
/** A Status frame's code (the flag nibble). */
export const byteStatus = (bytes: Uint8Array, off: number): number => bytes[off + O_KIND]! >> 4;
export const byteExchange = (bytes: Uint8Array, off: number): number => bytes[off + O_VER_EX]! & 0x0f;
export const byteInstrument = (bytes: Uint8Array, off: number): number =>
  bytes[off + O_INSTRUMENT]! | (bytes[off + O_INSTRUMENT + 1]! << 8);
export const byteSeq = (bytes: Uint8Array, off: number): number =>
  (bytes[off + O_SEQ]! |
    (bytes[off + O_SEQ + 1]! << 8) |
    (bytes[off + O_SEQ + 2]! << 16) |
    (bytes[off + O_SEQ + 3]! << 24)) >>>
  0;
/** tsRecv as a double (256 ns granularity near today): an index hint, not an exact stamp. */
export const byteTsRecv = (bytes: Uint8Array, off: number): number => {
  const at = off + O_TS_RECV;
  const lo = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
  const hi = bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16) | (bytes[at + 7]! << 24);
  return hi * TWO32 + lo;
};
/** Overwrite a frame's seq in a byte array (relay journal positions, tests). */
export function setByteSeq(bytes: Uint8Array, off: number, seq: number): void {
  bytes[off + O_SEQ] = seq & 0xff;
  bytes[off + O_SEQ + 1] = (seq >>> 8) & 0xff;
  bytes[off + O_SEQ + 2] = (seq >>> 16) & 0xff;
  bytes[off + O_SEQ + 3] = (seq >>> 24) & 0xff;
}

// Timestamps as two 32-bit halves (lo: u32 low word, hi: i32 high word), so a producer can take the host clock
// once per exchange message and copy it into every frame of it exactly, without a BigInt.
export function writeTsRecvParts(view: DataView, offset: number, lo: number, hi: number): void {
  view.setUint32(offset + O_TS_RECV, lo, true);
  view.setInt32(offset + O_TS_RECV + 4, hi, true);
}
export function writeTsExchangeParts(view: DataView, offset: number, lo: number, hi: number): void {
  view.setUint32(offset + O_TS_EXCHANGE, lo, true);
  view.setInt32(offset + O_TS_EXCHANGE + 4, hi, true);
}
export const tsRecvLo = (view: DataView, offset: number): number => view.getUint32(offset + O_TS_RECV, true);
export const tsRecvHi = (view: DataView, offset: number): number =>
  view.getInt32(offset + O_TS_RECV + 4, true);
export const tsExchangeLo = (view: DataView, offset: number): number =>
  view.getUint32(offset + O_TS_EXCHANGE, true);
export const tsExchangeHi = (view: DataView, offset: number): number =>
  view.getInt32(offset + O_TS_EXCHANGE + 4, true);
/** Copy tsRecv from one frame to another (the relay's journal index, tools). */
export function copyTsRecv(from: DataView, fromOffset: number, to: DataView, toOffset: number): void {
  writeTsRecvParts(to, toOffset, tsRecvLo(from, fromOffset), tsRecvHi(from, fromOffset));
}

/**
 * The body of a Status frame after its header: id = detail, price = count, size 0, tsExchange 0. seq and
 * tsRecv are the producer's (the collectors' emitter fills them at commit; writeStatusFrame in stamp.ts does
 * the whole frame with the host clock).
 */
export function writeStatusBody(view: DataView, offset: number, detail: number, count: number): void {
  setU64(view, offset + O_ID, detail);
  setI64(view, offset + O_PRICE, count);
  setI64(view, offset + O_SIZE, 0);
  setI64(view, offset + O_TS_EXCHANGE, 0);
}

/** A whole Status frame with a given tsRecv (lo/hi halves); instrument 0 unless given. */
export function writeStatusFrameAt(
  view: DataView,
  offset: number,
  status: Status,
  exchange: Exchange,
  seq: number,
  detail: number,
  count: number,
  tsRecvLoPart: number,
  tsRecvHiPart: number,
  instrument = 0,
): void {
  writeHeader(view, offset, Kind.Status, status << 4, exchange, instrument);
  writeSeq(view, offset, seq);
  writeStatusBody(view, offset, detail, count);
  writeTsRecvParts(view, offset, tsRecvLoPart, tsRecvHiPart);
}

/** Exact receive-time difference in ns between two frames' tsRecv, or tsRecv and a clock reading. */
export function tsRecvDeltaNs(view: DataView, offset: number, laterNsHi: number, laterNsLo: number): number {
  const hi = laterNsHi - view.getInt32(offset + O_TS_RECV + 4, true);
  const lo = laterNsLo - view.getUint32(offset + O_TS_RECV, true);
  return hi * TWO32 + lo;
}

export const FrameError = {
  None: 0,
  BadVersion: 1,
  UnknownKind: 2,
  UnknownExchange: 3,
  Truncated: 4,
  /** Status frame whose code (flag nibble) is not in `Status`. */
  UnknownStatus: 5,
  /** A flag bit with no meaning for the frame's kind, or both trade sides at once. */
  UnknownFlags: 6,
  /** Price out of range for the kind: trade ≤ 0, book/bbo < 0, or beyond MAX_MANTISSA. */
  BadPrice: 7,
  /** Size out of range for the kind: trade ≤ 0, book/bbo < 0, or beyond MAX_MANTISSA. */
  BadSize: 8,
} as const;
export type FrameError = (typeof FrameError)[keyof typeof FrameError];
export const FRAME_ERROR_NAMES: Record<number, string> = {
  0: "none",
  1: "bad_version",
  2: "unknown_kind",
  3: "unknown_exchange",
  4: "truncated",
  5: "unknown_status",
  6: "unknown_flags",
  7: "bad_price",
  8: "bad_size",
};
/** Every FrameError code, for per-reason metrics. */
export const FRAME_ERRORS: readonly FrameError[] = [0, 1, 2, 3, 4, 5, 6, 7, 8];

/**
 * Largest price or size mantissa the codec accepts: 2^53 − 1, the range every process reads exactly (collectors
 * already skip anything larger as unrepresentable, docs/wire-format.md).
 */
export const MAX_MANTISSA = Number.MAX_SAFE_INTEGER;
/** Highest status code in use; codes above it are refused. */
export const MAX_STATUS = Status.Ack;
/** Flag bits with a meaning, per kind (index = kind code). Trade sides are also mutually exclusive. */
export const KNOWN_FLAGS: readonly number[] = [
  0,
  FLAG_TAKER_BUY | FLAG_TAKER_SELL | FLAG_BACKFILL,
  FLAG_ASK | FLAG_SNAPSHOT | FLAG_BEGIN | FLAG_END,
  FLAG_ASK | FLAG_END,
  0xf0,
];

/**
 * validateFrame's rule on a whole frame's first two bytes (version 1 and exchange 1..3 in byte 1, kind 1..4 in
 * byte 0's low nibble) without a DataView or a call chain: the hot paths' check; validateFrame names the error.
 */
export function isValidHead(b0: number, b1: number): boolean {
  const kind = b0 & 0x0f;
  return b1 >= 0x11 && b1 <= 0x13 && kind >= 1 && kind <= 4;
}

/** Check one frame's header only (version, kind, exchange, length). Never throws; returns a FrameError. */
export function validateHead(view: DataView, offset: number): FrameError {
  if (offset + FRAME_SIZE > view.byteLength) return FrameError.Truncated;
  if (frameVersion(view, offset) !== WIRE_VERSION) return FrameError.BadVersion;
  const kind = frameKind(view, offset);
  if (kind < Kind.Trade || kind > Kind.Status) return FrameError.UnknownKind;
  const ex = frameExchange(view, offset);
  if (ex < Exchange.Kraken || ex > Exchange.Binance) return FrameError.UnknownExchange;
  return FrameError.None;
}

/** Check one whole frame: its header, then its values (valueError). What the codec accepts. Never throws. */
export function validateFrame(view: DataView, offset: number): FrameError {
  const head = validateHead(view, offset);
  if (head !== FrameError.None) return head;
  return validateFrameValues(view, offset);
}

/** The value rules (valueError) on a frame read through a DataView whose header is already valid. */
export function validateFrameValues(view: DataView, offset: number): FrameError {
  return valueError(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), offset);
}

// What byte 0 alone says about a frame's values, precomputed for all 256 values so the hot check is one load.
const R_BAD_FLAGS = 0;
const R_BAD_STATUS = 1;
const R_STATUS = 2;
/** Book level or BBO: 0 ≤ price, size ≤ MAX_MANTISSA. */
const R_LEVEL = 3;
/** Trade: 0 < price, size ≤ MAX_MANTISSA. */
const R_TRADE = 4;
const B0_RULE = new Uint8Array(256);
for (let b0 = 0; b0 < 256; b0++) {
  const kind = b0 & 0x0f;
  const flags = b0 & 0xf0;
  const bothSides = FLAG_TAKER_BUY | FLAG_TAKER_SELL;
  if (kind === Kind.Status) B0_RULE[b0] = b0 >> 4 > MAX_STATUS ? R_BAD_STATUS : R_STATUS;
  else if (kind < Kind.Trade || kind > Kind.Bbo || (flags & ~KNOWN_FLAGS[kind]!) !== 0)
    B0_RULE[b0] = R_BAD_FLAGS;
  else if (kind !== Kind.Trade) B0_RULE[b0] = R_LEVEL;
  else B0_RULE[b0] = (flags & bothSides) === bothSides ? R_BAD_FLAGS : R_TRADE;
}

/**
 * The value rules on raw bytes, for hot loops (the frame's header must already be valid: isValidHead):
 * a trade has known flags, not both sides, and 0 < price, size ≤ MAX_MANTISSA; a book level or BBO has known
 * flags and 0 ≤ price, size ≤ MAX_MANTISSA (size 0 = level removed / side empty); a status code is known.
 * The usual frame costs one table load for byte 0 and four loads for the top bytes of price and size (a trade
 * also its low bytes until one is non-zero).
 */
export function valueError(bytes: Uint8Array, off: number): FrameError {
  if (valuesOk(bytes, off)) return FrameError.None;
  const rule = B0_RULE[bytes[off + O_KIND]!]!;
  if (rule < R_LEVEL) return rule === R_BAD_STATUS ? FrameError.UnknownStatus : FrameError.UnknownFlags;
  if (rangeError(bytes, off + O_PRICE, rule) !== FrameError.None) return FrameError.BadPrice;
  return FrameError.BadSize;
}

/** valueError(...) === None, small enough to be inlined into the relay's and the decoders' read loops. */
export function valuesOk(bytes: Uint8Array, off: number): boolean {
  const rule = B0_RULE[bytes[off + O_KIND]!]!;
  if (rule === R_STATUS) return true;
  // Both hi words in [0, 2^21): top bytes 0 (not negative) and the next below 0x20 (below 2^53), in one test.
  return (
    rule >= R_LEVEL &&
    (bytes[off + O_PRICE + 7]! |
      bytes[off + O_SIZE + 7]! |
      ((bytes[off + O_PRICE + 6]! | bytes[off + O_SIZE + 6]!) & 0xe0)) ===
      0 &&
    (rule === R_LEVEL || (nonZero(bytes, off + O_PRICE) && nonZero(bytes, off + O_SIZE)))
  );
}

/** An i64 mantissa's own check, naming nothing: None or BadPrice (the caller maps it to the field). */
function rangeError(bytes: Uint8Array, at: number, rule: number): FrameError {
  if (bytes[at + 7] !== 0 || bytes[at + 6]! >= 0x20) return FrameError.BadPrice;
  if (rule === R_TRADE && !nonZero(bytes, at)) return FrameError.BadPrice;
  return FrameError.None;
}

/** Some byte of 0..6 of an i64 is non-zero (byte 7 is checked by the caller); usually the first load decides. */
const nonZero = (b: Uint8Array, at: number): boolean =>
  b[at] !== 0 ||
  b[at + 1] !== 0 ||
  b[at + 2] !== 0 ||
  b[at + 3] !== 0 ||
  b[at + 4] !== 0 ||
  b[at + 5] !== 0 ||
  b[at + 6] !== 0;

/** Header and values in one call: the per-frame check of the relay and of every consumer's decoder. */
export const isAcceptable = (bytes: Uint8Array, off: number): boolean =>
  isValidHead(bytes[off + O_KIND]!, bytes[off + O_VER_EX]!) && valuesOk(bytes, off);

/** Decode to a plain object (tests, tools, the JSON edge). */
export function decodeFrame(view: DataView, offset: number): FrameFields {
  return {
    kind: frameKind(view, offset) as Kind,
    flags: frameFlags(view, offset),
    exchange: frameExchange(view, offset) as Exchange,
    instrument: frameInstrument(view, offset),
    seq: frameSeq(view, offset),
    id: frameId(view, offset),
    price: framePrice(view, offset),
    size: frameSize(view, offset),
    tsExchange: frameTsExchange(view, offset),
    tsRecv: frameTsRecv(view, offset),
  };
}
