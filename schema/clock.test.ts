import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { elapsedSinceNs, nowNs, setTimeNs, stampNow, writeEpochNs, writeRfc3339Ns } from "./clock.ts";

const view = new DataView(new ArrayBuffer(8));
const read = () => view.getBigInt64(0, true);

describe("host clock", () => {
  test("stampNow is wall-clock ns, agreeing with Date.now within a few ms", () => {
    stampNow(view, 0);
    const diffMs = Number(read() / 1_000_000n) - Date.now();
    expect(Math.abs(diffMs)).toBeLessThan(50);
    expect(Math.abs(nowNs() / 1e6 - Date.now())).toBeLessThan(50);
  });

  test("elapsedSinceNs measures a short span exactly enough", async () => {
    stampNow(view, 0);
    await Bun.sleep(20);
    const elapsed = elapsedSinceNs(view, 0);
    expect(elapsed).toBeGreaterThan(15e6);
    expect(elapsed).toBeLessThan(2e9);
  });

  test("setTimeNs is exact for any second and nanosecond", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 33 }),
        fc.integer({ min: 0, max: 999_999_999 }),
        (sec, nsec) => {
          setTimeNs(view, 0, sec, nsec);
          expect(read()).toBe(BigInt(sec) * 1_000_000_000n + BigInt(nsec));
        },
      ),
    );
  });
});

describe("exchange timestamps", () => {
  test.each([
    ["2023-09-25T07:49:37.708706Z", 1695628177708706000n],
    ["2026-09-05T22:10:30.257889613Z", 1788646230257889613n],
    ["2019-08-14T20:42:27.265Z", 1565815347265000000n],
    ["2026-09-30T01:41:25.39625135Z", 1790732485396251350n],
    ["1970-01-01T00:00:00Z", 0n],
    ["2024-02-29T23:59:59.999999999Z", 1709251199999999999n],
  ])("%s", (text, ns) => {
    expect(writeRfc3339Ns(view, 0, text)).toBe(true);
    expect(read()).toBe(ns);
  });

  test("agrees with Date.parse at ms precision for random dates", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1971-01-01"), max: new Date("2200-01-01"), noInvalidDate: true }),
        (d) => {
          expect(writeRfc3339Ns(view, 0, d.toISOString())).toBe(true);
          expect(read()).toBe(BigInt(d.getTime()) * 1_000_000n);
        },
      ),
    );
  });

  test.each([
    "",
    "2023-09-25",
    "2023-13-25T07:49:37Z",
    "2023-09-25T07:49:37.Z",
    "2023-09-25T07:49:37+01:00",
    "0001-01-01 00:00:00",
  ])("rejects %p", (text) => {
    expect(writeRfc3339Ns(view, 0, text)).toBe(false);
  });

  test("epoch ms and µs", () => {
    writeEpochNs(view, 0, 1672515782136, "ms");
    expect(read()).toBe(1672515782136000000n);
    writeEpochNs(view, 0, 1672515782136123, "us");
    expect(read()).toBe(1672515782136123000n);
  });
});
