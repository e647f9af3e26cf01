// What format.ts writes is what schema/messages.ts says: every generated message passes checkServerMessage
// (no missing, extra or mistyped field), its values equal the frame's exactly, and every optional field of
// every market message type is seen, so the field lists and the writer cannot drift apart.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { formatFixedBig } from "../schema/decimal.ts";
import {
  EXCHANGE_IDS,
  EXCHANGES,
  encodeFrame,
  FLAG_ASK,
  FLAG_BACKFILL,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  FLAG_TAKER_BUY,
  FLAG_TAKER_SELL,
  FRAME_SIZE,
  FrameOffset,
  Kind,
  MAX_MANTISSA,
  MAX_STATUS,
  RESYNC_REASON_NAMES,
  STATUS_NAMES,
  Status,
} from "../schema/frame.ts";
import { loadRegistry } from "../schema/instruments.ts";
import {
  checkServerMessage,
  MESSAGE_FIELDS,
  parseServerData,
  type ServerMessage,
} from "../schema/messages.ts";
import { MAX_GROUP_FRAMES } from "./book.ts";
import { bboJson, bookSnapshotJson, bookUpdateJson, statusJson, tradeJson } from "./format.ts";
import { type SymbolEntry, TopicTable } from "./topics.ts";

const registry = loadRegistry({});
const table = new TopicTable(registry, { kraken: 3, other: 1000 });
const listed = EXCHANGES.flatMap((name) => table.listed(name));
const seen = new Map<string, Set<string>>();

/** Parse one written message, check it against its type, and remember which fields it had. */
function check(json: string): ServerMessage {
  const [message] = parseServerData(json);
  expect(checkServerMessage(message)).toBeUndefined();
  const fields = seen.get(message!.type) ?? new Set<string>();
  for (const key of Object.keys(message!)) fields.add(key);
  seen.set(message!.type, fields);
  return message!;
}

interface Raw {
  kind: number;
  flags: number;
  seq: number;
  id: bigint;
  price: bigint;
  size: bigint;
  tsExchange: bigint;
  tsRecv: bigint;
}
const mantissa = fc.bigInt({ min: 1n, max: BigInt(MAX_MANTISSA) });
const ns = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: (1n << 62n) - 1n }));
const rawFrame = (kind: number, flags: fc.Arbitrary<number>, values = mantissa) =>
  fc.record({
    kind: fc.constant(kind),
    flags,
    seq: fc.nat({ max: 0xffffffff }),
    id: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    price: values,
    size: values,
    tsExchange: ns,
    tsRecv: ns,
  });

/** Write a frame with exact i64/u64 values (beyond 2^53 too) at the schema's offsets. */
function write(view: DataView, off: number, e: SymbolEntry, f: Raw): void {
  encodeFrame(view, off, {
    kind: f.kind as Kind,
    flags: f.flags,
    exchange: e.exchange as 1,
    instrument: e.instrumentId,
    seq: f.seq,
    id: 0,
    price: 0,
    size: 0,
    tsExchange: 0,
    tsRecv: 0,
  });
  view.setBigUint64(off + FrameOffset.id, f.id, true);
  view.setBigInt64(off + FrameOffset.price, f.price, true);
  view.setBigInt64(off + FrameOffset.size, f.size, true);
  view.setBigInt64(off + FrameOffset.tsExchange, f.tsExchange, true);
  view.setBigInt64(off + FrameOffset.tsRecv, f.tsRecv, true);
}
const nsOrNull = (t: bigint) => (t === 0n ? null : t.toString());
const entry = fc.constantFrom(...listed);

describe("format.ts writes the messages schema/messages.ts declares", () => {
  test("trade", () => {
    const flags = fc
      .constantFrom(0, FLAG_TAKER_BUY, FLAG_TAKER_SELL)
      .chain((side) => fc.constantFrom(side, side | FLAG_BACKFILL));
    fc.assert(
      fc.property(entry, rawFrame(Kind.Trade, flags), (e, f) => {
        const view = new DataView(new ArrayBuffer(FRAME_SIZE));
        write(view, 0, e, f);
        const inst = e.instrument!;
        const expected: Record<string, unknown> = {
          type: "trade",
          exchange: e.exchangeName,
          symbol: inst.symbol,
          price: formatFixedBig(f.price, inst.priceDecimals),
          size: formatFixedBig(f.size, inst.sizeDecimals),
          side: f.flags & FLAG_TAKER_BUY ? "buy" : f.flags & FLAG_TAKER_SELL ? "sell" : "unknown",
          tradeId: f.id.toString(),
          seq: f.seq,
          tsExchange: nsOrNull(f.tsExchange),
          tsRecv: nsOrNull(f.tsRecv),
        };
        if (f.flags & FLAG_BACKFILL) expected.backfill = true;
        expect(check(tradeJson(e, view, 0))).toEqual(expected as never);
      }),
    );
  });

  test("status, on symbols and on whole connections", () => {
    const small = fc.bigInt({ min: 0n, max: BigInt(MAX_MANTISSA) });
    const connection = EXCHANGES.map((name) => table.entry(EXCHANGE_IDS[name], 0));
    fc.assert(
      fc.property(
        fc.constantFrom(...listed, ...connection),
        fc.integer({ min: 0, max: MAX_STATUS }),
        rawFrame(Kind.Status, fc.constant(0), small),
        fc.integer({ min: 0, max: 9 }),
        (e, code, f, reason) => {
          const view = new DataView(new ArrayBuffer(FRAME_SIZE));
          const detail = code === Status.BookResync ? BigInt(reason) : f.id & ((1n << 53n) - 1n);
          write(view, 0, e, { ...f, flags: code << 4, id: detail });
          const expected: Record<string, unknown> = {
            type: "status",
            exchange: e.exchangeName,
            symbol: e.instrument?.symbol ?? null,
            status: STATUS_NAMES[code],
            detail: Number(detail),
            count: Number(f.price),
            seq: f.seq,
            tsExchange: nsOrNull(f.tsExchange),
            tsRecv: nsOrNull(f.tsRecv),
          };
          if (code === Status.BookResync) expected.reason = RESYNC_REASON_NAMES[reason] ?? "unknown";
          expect(check(statusJson(e, view, 0))).toEqual(expected as never);
        },
      ),
    );
  });

  test("bbo: the two sides merged, null until seen", () => {
    const sides = fc.array(fc.record({ ask: fc.boolean(), f: rawFrame(Kind.Bbo, fc.constant(0)) }), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(entry, sides, (template, frames) => {
        const e = new TopicTable(registry, { kraken: 3, other: 10 }).entry(
          template.exchange,
          template.instrumentId,
        );
        const view = new DataView(new ArrayBuffer(FRAME_SIZE));
        const last: { bid?: Raw; ask?: Raw } = {};
        for (const [i, { ask, f }] of frames.entries()) {
          const end = i === frames.length - 1;
          write(view, 0, e, { ...f, flags: (ask ? FLAG_ASK : 0) | (end ? FLAG_END : 0) });
          last[ask ? "ask" : "bid"] = f;
          expect(e.bboState.apply(view, 0)).toBe(end);
        }
        const inst = e.instrument!;
        const final = frames[frames.length - 1]!.f;
        const side = (f: Raw | undefined, decimals: number, field: "price" | "size") =>
          f ? formatFixedBig(f[field], decimals) : null;
        expect(check(bboJson(e))).toEqual({
          type: "bbo",
          exchange: e.exchangeName,
          symbol: inst.symbol,
          bidPrice: side(last.bid, inst.priceDecimals, "price"),
          bidSize: side(last.bid, inst.sizeDecimals, "size"),
          askPrice: side(last.ask, inst.priceDecimals, "price"),
          askSize: side(last.ask, inst.sizeDecimals, "size"),
          seq: final.seq,
          tsExchange: nsOrNull(final.tsExchange),
          tsRecv: nsOrNull(final.tsRecv),
        });
      }),
    );
  });

  test("book: updates, snapshots, partial updates and the bridge's cached snapshot", () => {
    const level = fc.record({
      ask: fc.boolean(),
      price: fc.integer({ min: 1, max: 50 }),
      size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
    });
    const update = fc.record({
      snapshot: fc.boolean(),
      levels: fc.array(level, { minLength: 1, maxLength: 8 }),
    });
    fc.assert(
      fc.property(entry, fc.array(update, { minLength: 1, maxLength: 6 }), (template, updates) => {
        const e = new TopicTable(registry, { kraken: 3, other: 10 }).entry(
          template.exchange,
          template.instrumentId,
        );
        const inst = e.instrument!;
        const st = e.bookState;
        const view = new DataView(new ArrayBuffer(FRAME_SIZE));
        for (const u of updates) {
          for (const [i, l] of u.levels.entries()) {
            const flags =
              (l.ask ? FLAG_ASK : 0) |
              (u.snapshot ? FLAG_SNAPSHOT : 0) |
              (u.snapshot && i === 0 ? FLAG_BEGIN : 0) |
              (i === u.levels.length - 1 ? FLAG_END : 0);
            const raw = { kind: Kind.BookLevel, flags, seq: i, id: 7n, tsExchange: 0n, tsRecv: 5n };
            write(view, 0, e, { ...raw, price: BigInt(l.price), size: BigInt(l.size) });
            if (!st.add(view, 0)) continue;
            st.applyGroup();
            const m = check(bookUpdateJson(e));
            st.clearGroup();
            expect(m).toMatchObject({ type: "book", snapshot: u.snapshot, reset: u.snapshot, updateId: "7" });
            // Every frame's level is in the message, in order, plus a delete per level truncated by depth.
            const sent = (ask: boolean) =>
              u.levels
                .filter((x) => x.ask === ask)
                .map((x) => [
                  formatFixedBig(BigInt(x.price), inst.priceDecimals),
                  formatFixedBig(BigInt(x.size), inst.sizeDecimals),
                ]);
            if (m.type !== "book") throw new Error("not a book message");
            expect(m.bids.slice(0, sent(false).length)).toEqual(sent(false) as never);
            expect(m.asks.slice(0, sent(true).length)).toEqual(sent(true) as never);
          }
        }
        const snapshot = bookSnapshotJson(e);
        expect(snapshot).not.toBeNull();
        expect(check(snapshot!)).toMatchObject({ type: "book", snapshot: true, reset: true, cached: true });
      }),
      { numRuns: 200 },
    );
    // An update longer than the group limit is sent in parts marked partial.
    const e = new TopicTable(registry, { kraken: 3, other: 10 }).entry(
      listed[0]!.exchange,
      listed[0]!.instrumentId,
    );
    const view = new DataView(new ArrayBuffer(FRAME_SIZE));
    const frame = {
      kind: Kind.BookLevel,
      flags: 0,
      seq: 1,
      id: 1n,
      price: 1n,
      size: 1n,
      tsExchange: 0n,
      tsRecv: 1n,
    };
    for (let i = 0; i < MAX_GROUP_FRAMES - 1; i++) {
      write(view, 0, e, frame);
      expect(e.bookState.add(view, 0)).toBe(false);
    }
    write(view, 0, e, frame);
    expect(e.bookState.add(view, 0)).toBe(true);
    e.bookState.applyGroup();
    expect(check(bookUpdateJson(e))).toMatchObject({ partial: true });
  });

  test("every field a market message type declares is written by some message", () => {
    for (const type of ["trade", "book", "bbo", "status"] as const) {
      const { required, optional } = MESSAGE_FIELDS[type];
      expect([...(seen.get(type) ?? [])].sort()).toEqual([...required, ...optional].sort());
    }
  });
});
