import { describe, expect, test } from "bun:test";
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
import { BookState } from "../core/book.ts";
import { harness, l2 } from "./venue.testkit.ts";

const bookFrames = (h: ReturnType<typeof harness>) => h.frames().filter((f) => f.kind === Kind.BookLevel);
const sentLevel2 = (h: ReturnType<typeof harness>) => h.t.sent.map((m) => JSON.parse(m));

function synced(h: ReturnType<typeof harness>, product = "BTC-USD", bid = "100", ask = "101") {
  h.feed(
    l2(h.seq(), "snapshot", product, [
      ["bid", bid, "1"],
      ["offer", ask, "2"],
    ]),
  );
}

describe("level2", () => {
  test("snapshot frames: SNAPSHOT on all, BEGIN first, END last, id = sequence_num", () => {
    const h = harness();
    h.seq();
    h.seq();
    h.feed(
      l2(h.seq(), "snapshot", "BTC-USD", [
        ["bid", "100.5", "1"],
        ["bid", "100", "2"],
        ["offer", "101", "3"],
      ]),
    );
    expect(bookFrames(h).map((f) => [f.flags, f.price, f.size, f.id])).toEqual([
      [FLAG_SNAPSHOT | FLAG_BEGIN, 10050, 100000000, 2],
      [FLAG_SNAPSHOT, 10000, 200000000, 2],
      [FLAG_SNAPSHOT | FLAG_ASK | FLAG_END, 10100, 300000000, 2],
    ]);
  });

  test("an empty snapshot still clears the book: one placeholder frame with BEGIN|END", () => {
    const h = harness();
    h.feed(l2(h.seq(), "snapshot", "BTC-USD", []));
    expect(bookFrames(h).map((f) => [f.flags, f.price, f.size])).toEqual([
      [FLAG_SNAPSHOT | FLAG_BEGIN | FLAG_END, 0, 0],
    ]);
  });

  test("updates before the first snapshot are dropped; each update's last frame carries END", () => {
    const h = harness();
    h.feed(l2(h.seq(), "update", "BTC-USD", [["bid", "99", "1"]]));
    expect(bookFrames(h)).toEqual([]);
    synced(h);
    h.feed(
      l2(h.seq(), "update", "BTC-USD", [
        ["bid", "99", "1"],
        ["offer", "101", "0"],
      ]),
    );
    expect(
      bookFrames(h)
        .slice(2)
        .map((f) => f.flags),
    ).toEqual([0, FLAG_ASK | FLAG_END]);
  });

  test("a crossed book resyncs that one product: BookResync, level2 resubscribe, drop, BookSynced", async () => {
    const h = harness();
    synced(h, "BTC-USD");
    synced(h, "ETH-USD");
    h.feed(l2(h.seq(), "update", "BTC-USD", [["bid", "102", "1"]])); // bid above the 101 ask
    expect(h.statuses()).toEqual([
      { code: Status.BookResync, instrument: 1, detail: ResyncReason.CrossedBook, count: 0 },
    ]);
    await waitFor(() => h.t.sent.length === 2);
    expect(sentLevel2(h)).toEqual([
      { type: "unsubscribe", product_ids: ["BTC-USD"], channel: "level2" },
      { type: "subscribe", product_ids: ["BTC-USD"], channel: "level2" },
    ]);
    const before = bookFrames(h).length;
    h.feed(l2(h.seq(), "update", "BTC-USD", [["bid", "90", "1"]])); // dropped: waiting for the snapshot
    h.feed(l2(h.seq(), "update", "ETH-USD", [["bid", "90", "1"]])); // the other book is untouched
    expect(bookFrames(h).length).toBe(before + 1);
    synced(h, "BTC-USD");
    expect(h.statuses().at(-1)).toEqual({ code: Status.BookSynced, instrument: 1, detail: 0, count: 0 });
    expect(h.adapter.books.get(1)!.state).toBe(BookState.Synced);
    expect(h.adapter.books.get(2)!.state).toBe(BookState.Synced);
  });

  test("a sequence gap reports Gap and resyncs every book on the connection, each through ctx.resync", async () => {
    const h = harness();
    synced(h, "BTC-USD");
    synced(h, "ETH-USD");
    h.feed(l2(5, "update", "BTC-USD", [["bid", "99", "1"]]));
    const statuses = h.statuses();
    expect(statuses[0]).toEqual({ code: Status.Gap, instrument: 0, detail: 2, count: 3 });
    expect(statuses.slice(1).map((s) => [s.code, s.detail])).toEqual(
      h.adapter.products.instruments.map(() => [Status.BookResync, ResyncReason.SequenceGap]),
    );
    expect(h.t.ctx.metrics.gaps.value).toBe(1);
    const products = h.adapter.products.productIds.length;
    await waitFor(() => h.t.sent.length === products * 2);
    // The update that revealed the gap belongs to a book we no longer trust.
    expect(bookFrames(h).length).toBe(4);
  });

  test("a resync whose snapshot never comes is retried", async () => {
    const h = harness({ COINBASE_SNAPSHOT_TIMEOUT_MS: "20" });
    synced(h);
    h.feed(l2(h.seq(), "update", "BTC-USD", [["offer", "99", "1"]]));
    await waitFor(() => h.t.sent.length >= 4, { timeoutMs: 5000 });
    expect(sentLevel2(h).map((m) => m.type)).toEqual([
      "unsubscribe",
      "subscribe",
      "unsubscribe",
      "subscribe",
    ]);
    h.t.ctx.resyncs.stop();
  });

  test("a disconnect marks synced books as resyncing (reason reconnect); the new connection's snapshot syncs them", () => {
    const h = harness();
    synced(h, "BTC-USD");
    h.adapter.onClose(h.t.ctx);
    expect(h.statuses()).toEqual([
      { code: Status.BookResync, instrument: 1, detail: ResyncReason.Reconnect, count: 0 },
    ]);
    h.adapter.onOpen(h.t.ctx);
    h.feed(l2(0, "update", "BTC-USD", [["bid", "99", "1"]])); // dropped, fresh sequence baseline: no gap
    h.feed(l2(1, "snapshot", "BTC-USD", [["bid", "99", "1"]]));
    expect(h.statuses().map((s) => s.code)).toEqual([Status.BookResync, Status.BookSynced]);
  });

  test("bad levels are counted and skipped; an unrepresentable one reported after the update's END", () => {
    const h = harness();
    synced(h);
    h.feed(
      l2(h.seq(), "update", "BTC-USD", [
        ["bid", "99", "1"],
        ["middle", "99", "1"],
        ["bid", "abc", "1"],
        ["bid", "98.001", "1"],
        ["offer", "102", "2"],
      ]),
    );
    const frames = h.frames().slice(2);
    expect(frames.map((f) => [f.kind, f.flags])).toEqual([
      [Kind.BookLevel, 0],
      [Kind.BookLevel, FLAG_ASK | FLAG_END],
      [Kind.Status, Status.Unrepresentable << 4],
    ]);
    // middle (unknown side) and abc (bad number) are parse errors; 98.001 is well formed but unrepresentable.
    expect(h.parseErrors()).toBe(2);
    expect(h.t.ctx.metrics.unrepresentable.value).toBe(1);
  });

  test("an unknown product is counted, not fatal", () => {
    const h = harness();
    h.feed(l2(h.seq(), "snapshot", "DOGE-USD", [["bid", "1", "1"]]));
    expect(h.frames()).toEqual([]);
    expect(h.parseErrors()).toBe(1);
  });
});
