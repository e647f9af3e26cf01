import { expect, test } from "bun:test";
import { Kind, Status } from "../../schema/frame.ts";
import { StaleTracker } from "./stale.ts";
import { createTestContext } from "./testing.testkit.ts";
import { TradeIdTracker } from "./trades.ts";

const statuses = (t: ReturnType<typeof createTestContext>) =>
  t
    .frames()
    .filter((f) => f.kind === Kind.Status)
    .map((f) => [f.flags >> 4, f.instrument, f.price] as const);

test("stale threshold follows each symbol's own rate: a busy symbol goes stale, a quiet one does not", () => {
  const t = createTestContext("kraken");
  const stale = new StaleTracker(t.ctx.emitter, { factor: 10, minMs: 100, maxMs: 60_000 });
  // Busy symbol 1: every 10 ms. Quiet symbol 2: every 5 s.
  for (let ms = 0; ms <= 20_000; ms += 10) stale.touch(1, 1_000_000 + ms);
  for (let ms = 0; ms <= 20_000; ms += 5000) stale.touch(2, 1_000_000 + ms);
  stale.check(1_020_000 + 500); // 500 ms of silence: far beyond 10 × 10 ms, well within 10 × 5 s
  expect(statuses(t)).toEqual([[Status.Stale, 1, 0]]);
  expect(stale.thresholdMs(2)).toBeGreaterThan(40_000);
  stale.touch(1, 1_020_600);
  expect(statuses(t).at(-1)).toEqual([Status.Fresh, 1, 0]);
});

test("updates within one millisecond do not collapse the threshold", () => {
  const t = createTestContext("kraken");
  const stale = new StaleTracker(t.ctx.emitter, { factor: 10, minMs: 1, maxMs: 60_000 });
  for (let ms = 0; ms <= 10_000; ms += 1000) {
    stale.touch(3, ms + 1);
    stale.touch(3, ms + 1); // the ticker of the same event
  }
  expect(stale.thresholdMs(3)).toBeGreaterThanOrEqual(9_000);
});

test("trade ids: duplicates dropped, gaps reported before the trade that revealed them", () => {
  const t = createTestContext("binance");
  const ids = new TradeIdTracker(t.ctx.emitter, t.ctx.metrics);
  expect(ids.accept(4, 100, true)).toBe(true);
  expect(ids.accept(4, 101, true)).toBe(true);
  expect(ids.accept(4, 101, true)).toBe(false);
  expect(ids.accept(4, 50, true)).toBe(false);
  expect(ids.accept(4, 105, true)).toBe(true);
  expect(ids.accept(5, 7, false)).toBe(true);
  expect(ids.accept(5, 9, false)).toBe(true); // not contiguous: no gap
  const gaps = t.frames().filter((f) => f.kind === Kind.Status);
  expect(gaps.map((f) => [f.flags >> 4, f.instrument, f.id, f.price])).toEqual([
    [Status.TradeGap, 4, 102, 3],
  ]);
  expect(t.ctx.metrics.duplicateTrades.value).toBe(2);
});

test("trade ids: a locally rejected trade consumes its id; only exchange loss is a trade gap", () => {
  const t = createTestContext("kraken");
  const ids = new TradeIdTracker(t.ctx.emitter, t.ctx.metrics);
  const gaps: Array<[number, number, number]> = [];
  ids.onGap = (instrument, first, missing) => gaps.push([instrument, first, missing]);
  expect(ids.accept(1, 10, true)).toBe(true);
  ids.reject(1, 11, true); // unrepresentable: the exchange did send it
  expect(ids.accept(1, 12, true)).toBe(true);
  ids.reject(1, 15, true); // 13 and 14 were lost upstream: that is a gap, reported once
  expect(ids.accept(1, 16, true)).toBe(true);
  ids.reject(1, 16, true); // a replay of an id already seen is a duplicate, not a rejection
  const statuses = t.frames().filter((f) => f.kind === Kind.Status);
  expect(statuses.map((f) => [f.flags >> 4, f.instrument, f.id, f.price])).toEqual([
    [Status.TradeGap, 1, 13, 2],
  ]);
  expect(gaps).toEqual([[1, 13, 2]]);
  expect(t.ctx.metrics.rejectedTrades.value).toBe(2);
  expect(t.ctx.metrics.tradeGaps.value).toBe(1);
  expect(t.ctx.metrics.duplicateTrades.value).toBe(1);
  expect(ids.lastId(1)).toBe(16);
});

test("trade ids: a restart's seed reveals the gap; a seed from another tape is dropped, not a repeat filter", () => {
  const t = createTestContext("binance");
  const ids = new TradeIdTracker(t.ctx.emitter, t.ctx.metrics);
  ids.seed(1, 500, 0);
  expect(ids.accept(1, 510, true)).toBe(true); // 501..509 happened while the collector was down
  ids.seed(2, 5_000_000, 0);
  expect(ids.accept(2, 7, true)).toBe(true); // ids restarted far below: start fresh
  expect(ids.accept(2, 8, true)).toBe(true);
  const statuses = t.frames().filter((f) => f.kind === Kind.Status);
  expect(statuses.map((f) => [f.flags >> 4, f.instrument, f.id, f.price])).toEqual([
    [Status.TradeGap, 1, 501, 9],
  ]);
});
