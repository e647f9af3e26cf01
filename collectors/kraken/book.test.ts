import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { waitFor } from "../../lib/testing.ts";
import {
  FLAG_ASK,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  Kind,
  ResyncReason,
  Status,
} from "../../schema/frame.ts";
import type { OrderBook } from "../core/book.ts";
import { BookState } from "../core/book.ts";
import {
  bookMessage,
  fixture,
  harness,
  type Levels,
  maticSnapshotLevels,
  TextBook,
} from "./venue.testkit.ts";

const statusFrames = (h: ReturnType<typeof harness>, code: number) =>
  h.frames().filter((f) => f.kind === Kind.Status && f.flags >> 4 === code);

describe("Kraken book integrity", () => {
  test("documented checksums pass with frame decimals finer than Kraken's precision", () => {
    const h = harness();
    h.send(fixture("v2_docs_book_snapshot_MATICUSD.json"));
    h.send(fixture("v2_docs_book_update_MATICUSD.json"));
    expect(h.ctx.metrics.checksumFailures.value).toBe(0);
    const frames = h.frames();
    expect(frames.length).toBe(21);
    expect(frames[0]!.flags).toBe(FLAG_SNAPSHOT | FLAG_BEGIN);
    expect(frames[19]!.flags).toBe(FLAG_SNAPSHOT | FLAG_ASK | FLAG_END);
    expect(frames[20]).toMatchObject({ flags: FLAG_END, id: 2114181697, price: 565700, size: 109839475580 });
  });

  test("truncation to the subscribed depth: levels pushed out stay out, the checksum agrees", () => {
    const h = harness();
    const model = new TextBook(4, 8);
    const { bids, asks } = maticSnapshotLevels();
    model.apply(bids, asks);
    h.send(bookMessage("snapshot", "MATIC/USD", bids, asks, model.checksum()));
    // A better bid pushes 0.5657 out of the top 10; deleting it again leaves 9 bids (Kraken sends no refill).
    const steps: Array<[Levels, Levels]> = [
      [[["0.5667", "1.00000000"]], []],
      [[["0.5667", "0.00000000"]], [["0.5668", "0.00000000"]]],
      [
        [["0.5665", "2.5"]],
        [
          ["0.5669", "0"],
          ["0.5678", "7.25"],
        ],
      ],
    ];
    for (const [b, a] of steps) {
      model.apply(b, a);
      h.send(bookMessage("update", "MATIC/USD", b, a, model.checksum()));
    }
    expect(model.bids.size).toBe(9);
    expect(h.ctx.metrics.checksumFailures.value).toBe(0);
    expect(statusFrames(h, Status.BookResync).length).toBe(0);
  });

  test("a consumer that cuts to the subscribed depth at each FLAG_END holds the exchange's book (wire-format.md)", () => {
    const h = harness();
    const model = new TextBook(4, 8);
    const { bids, asks } = maticSnapshotLevels();
    model.apply(bids, asks);
    h.send(bookMessage("snapshot", "MATIC/USD", bids, asks, model.checksum()));
    const consumer = { cut: new ConsumerBook(10), uncut: new ConsumerBook(Number.POSITIVE_INFINITY) };
    let seen = 0;
    let diverged = 0;
    const apply = () => {
      for (const f of h.frames().slice(seen)) {
        if (f.kind !== Kind.BookLevel) continue;
        consumer.cut.apply(f);
        consumer.uncut.apply(f);
      }
      seen = h.frames().length;
      const sym = h.adapter.symbols.byName("MATIC/USD")!;
      const truth = ConsumerBook.of(sym.book);
      expect(consumer.cut.levels()).toEqual(truth);
      if (JSON.stringify(consumer.uncut.levels()) !== JSON.stringify(truth)) diverged++;
    };
    apply();
    // Better bids, then better asks, push levels out of the top 10 without a delete from Kraken.
    const steps: Array<[Levels, Levels]> = [
      [[["0.5667", "1.5"]], []],
      [
        [
          ["0.5667", "0"],
          ["0.5666", "0"],
        ],
        [],
      ],
      [
        [],
        [
          ["0.5667", "2.25"],
          ["0.5666", "3.25"],
        ],
      ],
    ];
    for (const [b, a] of steps) {
      model.apply(b, a);
      h.send(bookMessage("update", "MATIC/USD", b, a, model.checksum()));
      apply();
    }
    expect(h.ctx.metrics.checksumFailures.value).toBe(0);
    // The one that does not cut disagrees with the exchange's book at apply points.
    expect(diverged).toBeGreaterThan(0);
  });

  test("same-price repeats in one message apply in order", () => {
    const h = harness();
    const model = new TextBook(4, 8);
    const { bids, asks } = maticSnapshotLevels();
    model.apply(bids, asks);
    h.send(bookMessage("snapshot", "MATIC/USD", bids, asks, model.checksum()));
    const repeat: Levels = [
      ["0.5660", "1.0"],
      ["0.5660", "0"],
      ["0.5660", "3.0"],
    ];
    model.apply(repeat, []);
    h.send(bookMessage("update", "MATIC/USD", repeat, [], model.checksum()));
    expect(h.ctx.metrics.checksumFailures.value).toBe(0);
    const update = h.frames().slice(20);
    expect(update.map((f) => f.size)).toEqual([100000000, 0, 300000000]);
    expect(update.map((f) => f.flags)).toEqual([0, 0, FLAG_END]);
  });

  test("random update streams agree with the text model (no false checksum failures)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 3 })), {
            maxLength: 6,
          }),
          { maxLength: 25 },
        ),
        (messages) => {
          const h = harness();
          const model = new TextBook(4, 8);
          const { bids, asks } = maticSnapshotLevels();
          model.apply(bids, asks);
          h.send(bookMessage("snapshot", "MATIC/USD", bids, asks, model.checksum()));
          for (const changes of messages) {
            // Keep the book uncrossed: bids below 0.5667, asks above.
            const b: Levels = [];
            const a: Levels = [];
            for (const [isAsk, tick, qty] of changes) {
              const price = isAsk ? 5668 + tick : 5666 - tick;
              // qty 0 (a delete) one time in four, so levels beyond the depth would show if kept.
              (isAsk ? a : b).push([`0.${price}`, qty === 0 ? "0" : `${qty}.12500000`]);
            }
            model.apply(b, a);
            h.send(bookMessage("update", "MATIC/USD", b, a, model.checksum()));
          }
          expect(h.ctx.metrics.checksumFailures.value).toBe(0);
          h.ctx.resyncs.stop();
        },
      ),
      { numRuns: 60 },
    );
  });

  test("checksum mismatch: frames withheld, one symbol resynced by unsubscribe+subscribe, BookSynced after", async () => {
    const h = harness();
    h.send(fixture("v2_docs_book_snapshot_MATICUSD.json"));
    h.send(fixture("v2_captured_book_snapshot_GSTUSD.json")); // unknown pair here: counted, ignored
    const before = h.frames().length;
    h.send(fixture("v2_docs_book_update_MATICUSD.json").replace("2114181697", "1"));
    expect(h.ctx.metrics.checksumFailures.value).toBe(1);
    const resync = statusFrames(h, Status.BookResync);
    expect(resync.length).toBe(1);
    expect(resync[0]).toMatchObject({ instrument: 1000, id: ResyncReason.Checksum });
    expect(h.frames().length).toBe(before + 1);
    const maticState = () => h.adapter.symbols.byName("MATIC/USD")!.bookState;
    expect(maticState()).toBe(BookState.Resyncing);
    // Updates meanwhile are ignored, not applied.
    h.send(fixture("v2_docs_book_update_MATICUSD.json"));
    expect(h.frames().length).toBe(before + 1);
    await waitFor(() => h.sent.length >= 2);
    expect(h.sent.map((s) => JSON.parse(s))).toEqual([
      { method: "unsubscribe", params: { channel: "book", symbol: ["MATIC/USD"], depth: 10 }, req_id: 1001 },
      {
        method: "subscribe",
        params: { channel: "book", symbol: ["MATIC/USD"], depth: 10, snapshot: true },
        req_id: 1002,
      },
    ]);
    h.send(fixture("v2_docs_book_snapshot_MATICUSD.json"));
    const synced = statusFrames(h, Status.BookSynced);
    expect(synced.length).toBe(1);
    expect(synced[0]).toMatchObject({ instrument: 1000, id: 2439117997 });
    expect(maticState()).toBe(BookState.Synced);
    h.send(fixture("v2_docs_book_update_MATICUSD.json"));
    expect(h.frames().at(-1)).toMatchObject({ kind: Kind.BookLevel, id: 2114181697 });
    h.ctx.resyncs.stop();
    h.adapter.onClose(h.ctx);
  });

  test("a crossed book resyncs with reason crossed_book even when the checksum matches", () => {
    const h = harness();
    const model = new TextBook(4, 8);
    const { bids, asks } = maticSnapshotLevels();
    model.apply(bids, asks);
    h.send(bookMessage("snapshot", "MATIC/USD", bids, asks, model.checksum()));
    const crossing: Levels = [["0.5669", "5.0"]];
    model.apply(crossing, []);
    h.send(bookMessage("update", "MATIC/USD", crossing, [], model.checksum()));
    expect(h.ctx.metrics.checksumFailures.value).toBe(0);
    expect(statusFrames(h, Status.BookResync)[0]).toMatchObject({ id: ResyncReason.CrossedBook });
    expect(h.frames().filter((f) => f.kind === Kind.BookLevel).length).toBe(20);
    h.ctx.resyncs.stop();
  });

  test("an empty snapshot is one size-0 frame with snapshot, begin and end", () => {
    const h = harness();
    h.send(bookMessage("snapshot", "MATIC/USD", [], [], 0));
    expect(h.frames()).toEqual([
      expect.objectContaining({
        kind: Kind.BookLevel,
        flags: FLAG_SNAPSHOT | FLAG_BEGIN | FLAG_END,
        size: 0,
        id: 0,
      }),
    ]);
  });

  test("an update before any snapshot means the snapshot was lost: resync", () => {
    const h = harness();
    h.send(fixture("v2_docs_book_update_MATICUSD.json"));
    expect(statusFrames(h, Status.BookResync)[0]).toMatchObject({ id: ResyncReason.SequenceGap });
    h.ctx.resyncs.stop();
  });

  test("a level finer than the frame decimals is unrepresentable: nothing emitted, reported, resynced", () => {
    const h = harness();
    h.send(
      fixture("v2_docs_book_snapshot_MATICUSD.json").replace('"qty":4831.75496356', '"qty":4831.754963561'),
    );
    expect(h.frames().filter((f) => f.kind === Kind.BookLevel).length).toBe(0);
    expect(h.ctx.metrics.unrepresentable.value).toBe(1);
    expect(statusFrames(h, Status.Unrepresentable)[0]).toMatchObject({ instrument: 1000, id: 1 });
    expect(statusFrames(h, Status.BookResync).length).toBe(1);
    h.ctx.resyncs.stop();
  });

  test("book_resync says why: a malformed checksum field or level is not a checksum mismatch (issue 7 §3)", () => {
    const reasons = (message: string) => {
      const h = harness();
      h.send(fixture("v2_docs_book_snapshot_MATICUSD.json"));
      h.send(message);
      h.ctx.resyncs.stop();
      return statusFrames(h, Status.BookResync).map((f) => f.id);
    };
    const update = fixture("v2_docs_book_update_MATICUSD.json");
    expect(reasons(update.replace(/"checksum":\d+/, '"checksum":-1'))).toEqual([
      ResyncReason.BadChecksumField,
    ]);
    expect(reasons(update.replace(/"checksum":\d+/, '"checksum":"x"'))).toEqual([
      ResyncReason.BadChecksumField,
    ]);
    expect(reasons(update.replace('"qty":1098.3947558', '"qty":true'))).toEqual([ResyncReason.BadLevel]);
    // Finer than MATIC's 8 size decimals: well formed but unrepresentable, still a bad level.
    expect(reasons(update.replace('"qty":1098.3947558', '"qty":1098.394755801'))).toEqual([
      ResyncReason.BadLevel,
    ]);
    expect(reasons(update.replace(/"checksum":(\d+)/, (_m, n) => `"checksum":${Number(n) + 1}`))).toEqual([
      ResyncReason.Checksum,
    ]);
  });

  test("malformed levels roll the message back and resync; a reconnect resets every book", () => {
    const h = harness();
    h.send(fixture("v2_docs_book_snapshot_MATICUSD.json"));
    h.send(fixture("v2_docs_book_update_MATICUSD.json").replace('"qty":1098.3947558', '"qty":true'));
    expect(h.parseErrors("bad_level")).toBe(1);
    expect(h.frames().filter((f) => f.kind === Kind.BookLevel).length).toBe(20);
    h.adapter.onClose(h.ctx);
    h.adapter.onOpen(h.ctx);
    const sym = h.adapter.symbols.byName("MATIC/USD")!;
    expect(sym.bookState).toBe(BookState.AwaitingSnapshot);
    expect(sym.book.bids.length).toBe(0);
    // The reconnect's snapshot completes the pending resync.
    h.send(fixture("v2_docs_book_snapshot_MATICUSD.json"));
    expect(statusFrames(h, Status.BookSynced).length).toBe(1);
    h.ctx.resyncs.stop();
  });
});

/** What a consumer keeps from BookLevel frames: BEGIN clears, size 0 deletes, END cuts to `depth`. */
class ConsumerBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  constructor(private readonly depth: number) {}

  apply(f: { flags: number; price: number; size: number }): void {
    if (f.flags & FLAG_BEGIN) {
      this.bids.clear();
      this.asks.clear();
    }
    const side = f.flags & FLAG_ASK ? this.asks : this.bids;
    if (f.size === 0) side.delete(f.price);
    else side.set(f.price, f.size);
    if (f.flags & FLAG_END) {
      this.bids = new Map([...this.bids].sort((x, y) => y[0] - x[0]).slice(0, this.depth));
      this.asks = new Map([...this.asks].sort((x, y) => x[0] - y[0]).slice(0, this.depth));
    }
  }

  levels(): { bids: number[][]; asks: number[][] } {
    return {
      bids: [...this.bids].sort((x, y) => y[0] - x[0]),
      asks: [...this.asks].sort((x, y) => x[0] - y[0]),
    };
  }

  static of(book: OrderBook): { bids: number[][]; asks: number[][] } {
    const side = (s: typeof book.bids) =>
      Array.from({ length: s.length }, (_, i) => [s.prices[i]!, s.sizes[i]!]);
    return { bids: side(book.bids), asks: side(book.asks) };
  }
}
