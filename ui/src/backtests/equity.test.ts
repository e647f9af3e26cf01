import { expect, test } from "bun:test";
import { defaultWindow, equitySeries } from "./equity.ts";

test("one chart point per second, the last of each, in time order; exact text only becomes a number here", () => {
  const s = 1_700_000_000n * 1_000_000_000n;
  const at = (sec: number, ns: number) => (s + BigInt(sec) * 1_000_000_000n + BigInt(ns)).toString();
  expect(
    equitySeries([
      { tsNs: at(0, 5), equity: "100000" },
      { tsNs: at(0, 900_000_000), equity: "100000.25" },
      { tsNs: at(2, 0), equity: "99999.5" },
      { tsNs: at(1, 0), equity: "1" }, // out of order: dropped, the chart needs increasing times
      { tsNs: at(3, 1), equity: "100001.125" },
    ]),
  ).toEqual([
    { time: 1_700_000_000, value: 100000.25 },
    { time: 1_700_000_002, value: 99999.5 },
    { time: 1_700_000_003, value: 100001.125 },
  ]);
  expect(equitySeries([])).toEqual([]);
});

test("the default window is the last hour up to the current minute", () => {
  expect(defaultWindow(Date.UTC(2026, 11, 2, 10, 30, 45))).toEqual({
    from: "2026-12-02T09:30:00.000Z",
    to: "2026-12-02T10:30:00.000Z",
  });
});
