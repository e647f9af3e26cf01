// The lag arithmetic of api/db/read-router.ts (the routing itself runs on a real replica: api/replica.test.ts).
import { expect, test } from "bun:test";
import { LagTracker, parseLsn } from "./read-router.ts";

test("WAL positions parse as 64-bit numbers", () => {
  expect(parseLsn("0/3000000")).toBe(0x3000000n);
  expect(parseLsn("16/B374D848")).toBe((0x16n << 32n) | 0xb374d848n);
  expect(() => parseLsn("nope")).toThrow("not a WAL position");
});

test("lag is the age of the oldest primary position not yet replayed", () => {
  const lag = new LagTracker();
  lag.sample(1000, 100n);
  lag.sample(1250, 200n);
  lag.sample(1500, 300n);
  expect(lag.replayed(50n, 1600)).toBe(600); // nothing replayed: since the first sample
  expect(lag.replayed(200n, 1600)).toBe(100); // 100 and 200 replayed: 300 (at 1500) is the oldest left
  expect(lag.replayed(300n, 1700)).toBe(0);
  expect(lag.size).toBe(0);
});

test("an idle primary (the same position at every check) is no lag, however long it lasts", () => {
  const lag = new LagTracker();
  for (let t = 0; t < 100_000; t += 250) lag.sample(t, 500n);
  expect(lag.size).toBe(1);
  expect(lag.replayed(500n, 100_000)).toBe(0);
  // Replay paused just short of it: the lag runs from the first check that saw the position.
  lag.sample(100_000, 600n);
  for (let t = 100_250; t < 200_000; t += 250) lag.sample(t, 600n);
  expect(lag.replayed(500n, 200_000)).toBe(100_000);
});

test("a replica behind for hours keeps its lag measured from the oldest position (samples thinned, not dropped)", () => {
  const lag = new LagTracker();
  const hour = 3_600_000;
  let lsn = 1000n;
  for (let t = 0; t <= hour; t += 250) {
    lsn += 10n;
    lag.sample(t, lsn);
  }
  expect(lag.size).toBeLessThanOrEqual(256);
  expect(lag.replayed(1000n, hour)).toBe(hour);
  // Half replayed: the lag is about half an hour, read at most one sample spacing short.
  const half = 1000n + 10n * BigInt(hour / 2 / 250);
  const got = lag.replayed(half, hour);
  expect(got).toBeLessThanOrEqual(hour / 2);
  expect(got).toBeGreaterThan(hour / 2 - (2 * hour) / 256);
});
