// The golden vectors of the wire format, built with the codec itself (schema/frame.ts): every kind, every
// flag bit, every status code and resync reason, and the edge values of every field. `bun run golden` writes
// them to frames.json for other implementations (README.md here); golden.test.ts fails if the file drifts.
import {
  EXCHANGE_NAMES,
  encodeFrame,
  FLAG_ASK,
  FLAG_BACKFILL,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  FLAG_TAKER_BUY,
  FLAG_TAKER_SELL,
  FRAME_ERROR_NAMES,
  FRAME_SIZE,
  FrameOffset,
  KIND_NAMES,
  Kind,
  RESYNC_REASON_NAMES,
  STATUS_NAMES,
  Status,
  validateFrame,
  WIRE_VERSION,
} from "../frame.ts";

/** One frame as the codec would write it; i64/u64 fields as bigint so edge values are exact. */
export interface VectorInput {
  name: string;
  kind: Kind;
  flags: number;
  exchange: number;
  instrument: number;
  seq: number;
  id: bigint;
  price: bigint;
  size: bigint;
  tsExchange: bigint;
  tsRecv: bigint;
  /** Wire version nibble, when a vector tests a wrong one (the codec always writes WIRE_VERSION). */
  version?: number;
}

/** One vector in frames.json: the bytes and every field decoded; u64/i64 as decimal strings. */
export interface GoldenVector {
  name: string;
  hex: string;
  fields: {
    kind: string;
    kindCode: number;
    flags: number;
    flagNames: string[];
    version: number;
    exchange: string;
    exchangeCode: number;
    instrument: number;
    seq: number;
    id: string;
    price: string;
    size: string;
    tsExchange: string;
    tsRecv: string;
    status?: string;
    statusCode?: number;
    resyncReason?: string;
  };
  /** validateFrame's verdict: "none" = accepted; else the FrameError name a decoder must report. */
  error: string;
}

export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;
export const U64_MAX = 2n ** 64n - 1n;
const TS = 1_700_000_000_123_456_789n;

const FLAG_NAMES: Record<number, Record<number, string>> = {
  [Kind.Trade]: {
    [FLAG_TAKER_BUY]: "taker_buy",
    [FLAG_TAKER_SELL]: "taker_sell",
    [FLAG_BACKFILL]: "backfill",
  },
  [Kind.BookLevel]: {
    [FLAG_ASK]: "ask",
    [FLAG_SNAPSHOT]: "snapshot",
    [FLAG_BEGIN]: "begin",
    [FLAG_END]: "end",
  },
  [Kind.Bbo]: { [FLAG_ASK]: "ask", [FLAG_END]: "end" },
};

function input(name: string, over: Partial<VectorInput>): VectorInput {
  return {
    name,
    kind: Kind.Trade,
    flags: 0,
    exchange: 1,
    instrument: 1,
    seq: 1,
    id: 1n,
    price: 1n,
    size: 1n,
    tsExchange: TS - 1_000_000n,
    tsRecv: TS,
    ...over,
  };
}

/** Every case, in a fixed order (the file's order). */
export function vectorInputs(): VectorInput[] {
  const v: VectorInput[] = [];
  const trade = (name: string, o: Partial<VectorInput>) => v.push(input(`trade: ${name}`, o));
  trade("unknown aggressor", { price: 4_200_012n, size: 150_000_000n, id: 123_456_789n });
  trade("taker buy", { flags: FLAG_TAKER_BUY, price: 4_200_012n, size: 1n });
  trade("taker sell", { flags: FLAG_TAKER_SELL, price: 4_200_012n, size: 1n });
  trade("backfilled taker buy", { flags: FLAG_TAKER_BUY | FLAG_BACKFILL, exchange: 3 });
  trade("backfilled, unknown aggressor", { flags: FLAG_BACKFILL, exchange: 2 });
  trade("seq 0, id 0, tsExchange 0 (none given)", { seq: 0, id: 0n, tsExchange: 0n });
  trade("seq 2^32-1, id 2^64-1", { seq: 2 ** 32 - 1, id: U64_MAX });
  trade("price and size 2^53-1 (largest accepted)", { price: 2n ** 53n - 1n, size: 2n ** 53n - 1n });
  trade("instrument 65535", { instrument: 65535 });
  trade("refused: price 0", { price: 0n });
  trade("refused: negative price", { price: -500_000n });
  trade("refused: price 2^62", { price: 2n ** 62n });
  trade("refused: price 2^53", { price: 2n ** 53n });
  trade("refused: price i64 max", { price: I64_MAX });
  trade("refused: price i64 min", { price: I64_MIN });
  trade("refused: size 0", { size: 0n });
  trade("refused: negative size", { size: -1n });
  trade("refused: both sides", { flags: FLAG_TAKER_BUY | FLAG_TAKER_SELL });
  trade("refused: flag 0x80", { flags: 0x80 });

  const book = (name: string, o: Partial<VectorInput>) =>
    v.push(input(`book: ${name}`, { kind: Kind.BookLevel, id: 3_735_928_559n, ...o }));
  book("bid delta", { price: 4_199_900n, size: 25_000_000n });
  book("ask delta, end", { flags: FLAG_ASK | FLAG_END, price: 4_200_100n, size: 1n });
  book("bid removed (size 0)", { size: 0n });
  book("snapshot begin", { flags: FLAG_SNAPSHOT | FLAG_BEGIN });
  book("snapshot ask", { flags: FLAG_SNAPSHOT | FLAG_ASK });
  book("snapshot end", { flags: FLAG_SNAPSHOT | FLAG_END | FLAG_ASK });
  book("empty snapshot", { flags: FLAG_SNAPSHOT | FLAG_BEGIN | FLAG_END, price: 0n, size: 0n });
  book("every flag", { flags: 0xf0 });
  book("price 0", { price: 0n });
  book("refused: negative price", { price: -1n });
  book("refused: negative size", { size: I64_MIN });
  book("refused: size i64 max", { size: I64_MAX });

  const bbo = (name: string, o: Partial<VectorInput>) =>
    v.push(input(`bbo: ${name}`, { kind: Kind.Bbo, ...o }));
  bbo("bid", { price: 4_200_000n, size: 10n, exchange: 3 });
  bbo("ask, end", { flags: FLAG_ASK | FLAG_END, price: 4_200_001n, size: 20n, exchange: 3 });
  bbo("ask alone", { flags: FLAG_ASK });
  bbo("end alone", { flags: FLAG_END });
  bbo("empty side", { size: 0n, price: 0n });
  bbo("refused: flag 0x20", { flags: 0x20 });
  bbo("refused: flag 0x40", { flags: 0x40 });
  bbo("refused: negative price", { price: -1n });

  for (const [code, name] of Object.entries(STATUS_NAMES)) {
    v.push(
      input(`status: ${name}`, {
        kind: Kind.Status,
        flags: Number(code) << 4,
        instrument: 0,
        seq: Number(code) === Status.CollectorStart ? 0 : 77,
        id: Number(code) === Status.BookResync ? 1n : BigInt(code) * 1000n + 7n,
        price: BigInt(code),
        size: 0n,
        tsExchange: 0n,
      }),
    );
  }
  for (const [reason, name] of Object.entries(RESYNC_REASON_NAMES)) {
    v.push(
      input(`status: book_resync, reason ${name}`, {
        kind: Kind.Status,
        flags: Status.BookResync << 4,
        instrument: 2,
        id: BigInt(reason),
        price: 0n,
        size: 0n,
        tsExchange: 0n,
      }),
    );
  }
  const status = (name: string, o: Partial<VectorInput>) =>
    v.push(input(`status: ${name}`, { kind: Kind.Status, instrument: 0, size: 0n, tsExchange: 0n, ...o }));
  status("gap with u64 max detail and i64 extremes (status values are not checked)", {
    flags: Status.Gap << 4,
    id: U64_MAX,
    price: I64_MAX,
    size: I64_MIN,
  });
  status("ack of seq 2^32-1", { flags: Status.Ack << 4, seq: 0, id: 2n ** 32n - 1n, price: 0n });
  status("refused: unknown code 15", { flags: 0xf0 });
  status("tsRecv i64 max, tsExchange i64 min", {
    flags: Status.Heartbeat << 4,
    tsRecv: I64_MAX,
    tsExchange: I64_MIN,
  });
  status("tsRecv 0", { flags: Status.Heartbeat << 4, tsRecv: 0n });
  for (const ex of Object.keys(EXCHANGE_NAMES)) {
    status(`exchange ${EXCHANGE_NAMES[Number(ex)]}`, { flags: Status.Heartbeat << 4, exchange: Number(ex) });
  }
  const head = (name: string, o: Partial<VectorInput>) => v.push(input(`refused header: ${name}`, o));
  head("wire version 2", { version: 2 });
  head("wire version 0", { version: 0 });
  head("unknown kind 5", { kind: 5 as Kind });
  head("unknown kind 0", { kind: 0 as Kind });
  head("unknown exchange 9", { exchange: 9 });
  head("unknown exchange 0", { exchange: 0 });
  return v;
}

/** Bytes of one input: the codec writes the frame; i64/u64 fields are then set exactly (BigInt, the same slots). */
export function encodeVector(x: VectorInput): Uint8Array {
  const bytes = new Uint8Array(FRAME_SIZE);
  const view = new DataView(bytes.buffer);
  encodeFrame(view, 0, {
    ...x,
    kind: x.kind,
    exchange: x.exchange as 1,
    id: 0,
    price: 0,
    size: 0,
    tsExchange: 0,
    tsRecv: 0,
  });
  view.setBigUint64(FrameOffset.id, x.id, true);
  view.setBigInt64(FrameOffset.price, x.price, true);
  view.setBigInt64(FrameOffset.size, x.size, true);
  view.setBigInt64(FrameOffset.tsExchange, x.tsExchange, true);
  view.setBigInt64(FrameOffset.tsRecv, x.tsRecv, true);
  if (x.version !== undefined) view.setUint8(FrameOffset.versionExchange, (x.version << 4) | x.exchange);
  return bytes;
}

function vector(x: VectorInput): GoldenVector {
  const bytes = encodeVector(x);
  const flagNames = Object.entries(FLAG_NAMES[x.kind] ?? {})
    .filter(([bit]) => (x.flags & Number(bit)) !== 0)
    .map(([, name]) => name);
  const fields: GoldenVector["fields"] = {
    kind: KIND_NAMES[x.kind] ?? "unknown",
    kindCode: x.kind,
    flags: x.flags,
    flagNames,
    version: x.version ?? WIRE_VERSION,
    exchange: EXCHANGE_NAMES[x.exchange] ?? "unknown",
    exchangeCode: x.exchange,
    instrument: x.instrument,
    seq: x.seq,
    id: x.id.toString(),
    price: x.price.toString(),
    size: x.size.toString(),
    tsExchange: x.tsExchange.toString(),
    tsRecv: x.tsRecv.toString(),
  };
  if (x.kind === Kind.Status) {
    fields.statusCode = x.flags >> 4;
    fields.status = STATUS_NAMES[x.flags >> 4] ?? "unknown";
    if (x.flags >> 4 === Status.BookResync)
      fields.resyncReason = RESYNC_REASON_NAMES[Number(x.id)] ?? "unknown";
  }
  const error = FRAME_ERROR_NAMES[validateFrame(new DataView(bytes.buffer), 0)]!;
  return { name: x.name, hex: Buffer.from(bytes).toString("hex"), fields, error };
}

/** The whole file, as `bun run golden` writes it. */
export function goldenFile(): string {
  const doc = {
    format: "tapewire wire frames",
    version: WIRE_VERSION,
    frameSize: FRAME_SIZE,
    byteOrder: "little-endian",
    offsets: FrameOffset,
    kinds: KIND_NAMES,
    exchanges: EXCHANGE_NAMES,
    statuses: STATUS_NAMES,
    resyncReasons: RESYNC_REASON_NAMES,
    errors: FRAME_ERROR_NAMES,
    vectors: vectorInputs().map(vector),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
