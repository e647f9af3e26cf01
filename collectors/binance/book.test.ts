import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  FLAG_ASK,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  type FrameFields,
  Kind,
  ResyncReason,
  Status,
} from "../../schema/frame.ts";
import { MAX_BUFFERED_DIFFS } from "./book.ts";
import { depth, makeKit, snapshot } from "./venue.testkit.ts";

const ETH = 5; // ETH-USDT: priceDecimals 2, sizeDecimals 8

const statusOf = (f: FrameFields) => (f.kind === Kind.Status ? f.flags >> 4 : -1);
const until = async (cond: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met");
    await Bun.sleep(2);
  }
};

/** A consumer's book rebuilt from BookLevel frames of one instrument: the check that frames tell the truth. */
function consumerBook(frames: FrameFields[], instrument: number) {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  for (const f of frames) {
    if (f.kind !== Kind.BookLevel || f.instrument !== instrument) continue;
    if (f.flags & FLAG_BEGIN) {
      bids.clear();
      asks.clear();
    }
    const side = f.flags & FLAG_ASK ? asks : bids;
    if (f.size === 0) side.delete(f.price);
    else side.set(f.price, f.size);
  }
  return { bids, asks };
}

describe("BookSync through ctx.resync", () => {
  test("open → BookResync(reconnect) per symbol, snapshot fetched and applied, BookSynced; no diff frames before", async () => {
    const fetched: string[] = [];
    const k = makeKit({
      fetchSnapshot: async (symbol) => {
        fetched.push(symbol);
        return symbol === "ETHUSDT"
          ? snapshot(100, [["10.00", "1"]], [["11.00", "2"]])
          : new Promise(() => {});
      },
    });
    k.adapter.onOpen(k.t.ctx);
    k.send(depth("ETHUSDT", 95, 101, [["10.00", "3"]], []));
    expect(k.t.frames().filter((f) => f.kind === Kind.BookLevel)).toEqual([]);
    await until(() => k.t.frames().some((f) => statusOf(f) === Status.BookSynced));
    const frames = k.t.frames();
    expect(frames.slice(0, 4).map((f) => [statusOf(f), f.id])).toEqual([
      [Status.BookResync, ResyncReason.Reconnect],
      [Status.BookResync, ResyncReason.Reconnect],
      [Status.BookResync, ResyncReason.Reconnect],
      [Status.BookResync, ResyncReason.Reconnect],
    ]);
    expect(fetched.sort()).toEqual(["BTCUSDT", "ETHUSDT", "SHIBUSDT", "SOLUSDT"]);
    expect(frames.slice(4).map((f) => [f.kind, f.flags, f.id, f.price, f.size])).toEqual([
      [Kind.BookLevel, FLAG_SNAPSHOT | FLAG_BEGIN, 100, 1000, 100000000],
      [Kind.BookLevel, FLAG_SNAPSHOT | FLAG_ASK | FLAG_END, 100, 1100, 200000000],
      [Kind.BookLevel, FLAG_END, 101, 1000, 300000000],
      [Kind.Status, Status.BookSynced << 4, 101, 0, 0],
    ]);
    k.t.ctx.resyncs.stop();
  });

  test("a snapshot fetched for a previous connection is thrown away", async () => {
    const pending: Array<(body: string) => void> = [];
    const k = makeKit({
      fetchSnapshot: (s) => (s === "ETHUSDT" ? new Promise((r) => pending.push(r)) : new Promise(() => {})),
    });
    k.adapter.onOpen(k.t.ctx);
    await until(() => pending.length === 1);
    k.adapter.onClose(k.t.ctx);
    k.adapter.onOpen(k.t.ctx);
    await until(() => pending.length === 2);
    pending[0]!(snapshot(50, [["1.00", "1"]], [["2.00", "1"]]));
    await Bun.sleep(5);
    expect(k.t.frames().filter((f) => f.kind === Kind.BookLevel)).toEqual([]);
    pending[1]!(snapshot(60, [["1.00", "1"]], [["2.00", "1"]]));
    await until(() => k.t.frames().some((f) => statusOf(f) === Status.BookSynced));
    expect(
      k.t
        .frames()
        .filter((f) => f.kind === Kind.BookLevel)
        .map((f) => f.id),
    ).toEqual([60, 60]);
    k.t.ctx.resyncs.stop();
  });

  test("a snapshot older than the buffered diffs is fetched again (the scheduler retries)", async () => {
    const bodies = [
      snapshot(100, [["1.00", "1"]], [["2.00", "1"]]),
      snapshot(205, [["1.00", "1"]], [["2.00", "1"]]),
    ];
    let calls = 0;
    const k = makeKit({
      fetchSnapshot: async (s) => (s === "ETHUSDT" ? bodies[Math.min(calls++, 1)]! : new Promise(() => {})),
    });
    k.adapter.onOpen(k.t.ctx);
    k.send(depth("ETHUSDT", 201, 210, [["1.50", "1"]], []));
    await until(() => k.t.frames().some((f) => statusOf(f) === Status.BookSynced), 3000);
    expect(calls).toBe(2);
    expect(
      k.t
        .frames()
        .filter((f) => f.kind === Kind.BookLevel)
        .map((f) => f.id),
    ).toEqual([205, 205, 210]);
    k.t.ctx.resyncs.stop();
  });
});

describe("BookSync edge cases", () => {
  const synced = (k: ReturnType<typeof makeKit>, id: number) => {
    const sym = k.adapter.sync.symbols.find((s) => s.venueSymbol === "ETHUSDT")!;
    k.adapter.sync.applySnapshot(k.t.ctx, sym, snapshot(id, [["10.00", "1"]], [["11.00", "1"]]));
    return sym;
  };

  test("an empty snapshot still tells consumers to clear: one zero level with SNAPSHOT|BEGIN|END", () => {
    const k = makeKit();
    k.adapter.onOpen(k.t.ctx);
    const sym = k.adapter.sync.symbols.find((s) => s.venueSymbol === "ETHUSDT")!;
    k.adapter.sync.applySnapshot(k.t.ctx, sym, snapshot(7, [], []));
    const levels = k.t.frames().filter((f) => f.kind === Kind.BookLevel);
    expect(levels.map((f) => [f.flags, f.id, f.price, f.size])).toEqual([
      [FLAG_SNAPSHOT | FLAG_BEGIN | FLAG_END, 7, 0, 0],
    ]);
    k.t.ctx.resyncs.stop();
  });

  test("a gap inside the buffered diffs resyncs again and keeps the diffs from the gap on", () => {
    const k = makeKit();
    k.adapter.onOpen(k.t.ctx);
    const sym = k.adapter.sync.symbols.find((s) => s.venueSymbol === "ETHUSDT")!;
    k.send(depth("ETHUSDT", 99, 102, [["10.00", "2"]], []));
    k.send(depth("ETHUSDT", 110, 112, [["10.00", "3"]], []));
    k.adapter.sync.applySnapshot(k.t.ctx, sym, snapshot(100, [["10.00", "1"]], [["11.00", "1"]]));
    const tail = k.t.frames().slice(-3);
    expect(tail.map((f) => [f.kind, statusOf(f), f.id, f.price])).toEqual([
      [Kind.BookLevel, -1, 102, 1000],
      [Kind.Status, Status.Gap, 103, 7], // first missing id 103, 7 missing (103..109)
      [Kind.Status, Status.BookResync, ResyncReason.SequenceGap, 0],
    ]);
    expect(sym.synced).toBe(false);
    expect(sym.buffer.map((d) => [d.U, d.u])).toEqual([[110, 112]]);
    k.t.ctx.resyncs.stop();
  });

  test("a stale diff (u <= book id) is ignored and counted; an unreadable diff on a synced book resyncs it", () => {
    const k = makeKit();
    k.adapter.onOpen(k.t.ctx);
    const sym = synced(k, 100);
    const before = k.t.frames().length;
    k.send(depth("ETHUSDT", 95, 100, [["10.00", "9"]], []));
    expect(k.t.frames().length).toBe(before);
    expect(k.metric("collector_stale_diffs_total")).toBe(1);
    k.send(
      '{"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"ETHUSDT","U":101,"u":102,"b":[["10.00"]],"a":[]}}',
    );
    expect(sym.synced).toBe(false);
    expect(k.errors()).toEqual({ malformed_levels: 1 });
    const last = k.t.frames().at(-1)!;
    expect([statusOf(last), last.id]).toEqual([Status.BookResync, ResyncReason.SequenceGap]);
    expect(
      k.t
        .frames()
        .slice(before)
        .filter((f) => f.kind === Kind.BookLevel),
    ).toEqual([]); // rolled back
    k.t.ctx.resyncs.stop();
  });

  test("the pre-snapshot buffer is bounded: the oldest diffs go first, counted", () => {
    const k = makeKit();
    k.adapter.onOpen(k.t.ctx);
    for (let i = 1; i <= MAX_BUFFERED_DIFFS + 10; i++) k.send(depth("ETHUSDT", i, i, [["10.00", "1"]], []));
    const sym = k.adapter.sync.symbols.find((s) => s.venueSymbol === "ETHUSDT")!;
    expect(sym.buffer.length).toBe(MAX_BUFFERED_DIFFS);
    expect(sym.buffer[0]!.U).toBe(11);
    expect(k.metric("collector_sync_buffer_dropped_total")).toBe(10);
    k.t.ctx.resyncs.stop();
  });

  test("the crossed-book check keeps a bounded book: the best 2 x limit levels (at least 1000) per side", () => {
    const k = makeKit({}, { BINANCE_DEPTH_LIMIT: "500" });
    k.adapter.onOpen(k.t.ctx);
    const bids = Array.from({ length: 1200 }, (_, i): [string, string] => [`${(5000 - i).toFixed(2)}`, "1"]);
    const sym = k.adapter.sync.symbols.find((s) => s.venueSymbol === "ETHUSDT")!;
    k.adapter.sync.applySnapshot(k.t.ctx, sym, snapshot(1, bids, [["6000.00", "1"]]));
    expect(sym.book.bids.length).toBe(1000);
    expect(sym.book.bestBid).toBe(500000);
    expect(k.t.frames().filter((f) => f.kind === Kind.BookLevel).length).toBe(1201); // consumers get all of it
    k.t.ctx.resyncs.stop();
  });

  test("diffs arriving while disconnected are not buffered", () => {
    const k = makeKit();
    k.send(depth("ETHUSDT", 1, 2, [["10.00", "1"]], []));
    expect(k.adapter.sync.symbols.every((s) => s.buffer.length === 0)).toBe(true);
  });
});

describe("BookSync model check", () => {
  // Bids at prices 1..49, asks at 51..99 (in cents): never crossed, so only sequencing is under test.
  const change = fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 49 }), fc.integer({ min: 0, max: 4 }));
  test("snapshot at any point, any diffs buffered before it: the frames rebuild exactly the exchange's book", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(change, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 30 }),
        fc.nat(),
        fc.nat(),
        (diffs, snapAt, arriveAfter) => {
          const k = makeKit();
          k.adapter.onOpen(k.t.ctx);
          const sym = k.adapter.sync.symbols.find((s) => s.venueSymbol === "ETHUSDT")!;
          const book = [new Map<number, number>(), new Map<number, number>()];
          const px = (isAsk: boolean, p: number) => (isAsk ? 50 + p : p);
          const text = (cents: number) => (cents / 100).toFixed(2);
          const snapIndex = snapAt % (diffs.length + 1); // snapshot after this many diffs
          const arriveIndex = snapIndex + (arriveAfter % (diffs.length - snapIndex + 1));
          let snap = "";
          let id = 1000;
          const messages: string[] = [];
          diffs.forEach((changes, i) => {
            if (i === snapIndex) snap = snapshotOf(book, id);
            const U = id + 1;
            id += 1 + (i % 3); // diffs cover 1-3 update ids each
            const bids: Array<[string, string]> = [];
            const asks: Array<[string, string]> = [];
            for (const [isAsk, p, q] of changes) {
              const price = px(isAsk, p);
              (isAsk ? asks : bids).push([text(price), String(q)]);
              if (q === 0) book[isAsk ? 1 : 0]!.delete(price);
              else book[isAsk ? 1 : 0]!.set(price, q);
            }
            messages.push(depth("ETHUSDT", U, id, bids, asks));
          });
          if (snapIndex === diffs.length) snap = snapshotOf(book, id);
          messages.forEach((m, i) => {
            if (i === arriveIndex) k.adapter.sync.applySnapshot(k.t.ctx, sym, snap);
            k.send(m);
          });
          if (arriveIndex === messages.length) k.adapter.sync.applySnapshot(k.t.ctx, sym, snap);
          k.t.ctx.resyncs.stop();
          expect(sym.synced).toBe(true);
          const got = consumerBook(k.t.frames(), ETH);
          const want = (m: Map<number, number>) => new Map([...m].map(([p, q]) => [p, q * 1e8]));
          expect(got.bids).toEqual(want(book[0]!));
          expect(got.asks).toEqual(want(book[1]!));
          expect(k.t.frames().some((f) => statusOf(f) === Status.Gap)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

function snapshotOf(book: Map<number, number>[], id: number): string {
  const side = (m: Map<number, number>, desc: boolean) =>
    [...m]
      .sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]))
      .map(([p, q]): [string, string] => [(p / 100).toFixed(2), `${q}.00000000`]);
  return snapshot(id, side(book[0]!, true), side(book[1]!, false));
}
