// COPY bytes must equal the exact text: compared with the string formatters and BigInt over random values.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { formatFixed } from "../schema/decimal.ts";
import { CopyWriter } from "./copy-text.ts";

const view = new DataView(new ArrayBuffer(8));
const text = (w: CopyWriter) => new TextDecoder().decode(w.take());

test("fixed() writes the exact trimmed decimal of any mantissa", () => {
  const w = new CopyWriter(4); // tiny: growth is exercised too
  const cases: [bigint, number, string][] = [
    [0n, 8, "0"],
    [5n, 2, "0.05"],
    [500n, 2, "5"],
    [1050n, 2, "10.5"],
    [-150n, 2, "-1.5"],
    [123n, 0, "123"],
    [9_007_199_254_740_993n, 8, "90071992.54740993"],
    [-(1n << 63n), 9, "-9223372036.854775808"],
  ];
  for (const [m, d, want] of cases) {
    view.setBigInt64(0, m, true);
    w.fixed(view, 0, d);
    expect(text(w)).toBe(want);
  }
  fc.assert(
    fc.property(
      fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: 0, max: 18 }),
      (m, d) => {
        view.setBigInt64(0, BigInt(m), true);
        w.fixed(view, 0, d);
        return text(w) === formatFixed(m, d);
      },
    ),
    { numRuns: 20_000 },
  );
});

test("ns() and u64() write exact integers; timestamp() truncates to µs", () => {
  const w = new CopyWriter();
  fc.assert(
    fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (ns) => {
      view.setBigInt64(0, ns, true);
      w.ns(view, 0);
      w.tab();
      w.u64(view, 0);
      return text(w) === `${ns}\t${BigInt.asUintN(64, ns)}`;
    }),
    { numRuns: 20_000 },
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 4_102_444_800_000_000_000n }), (ns) => {
      view.setBigInt64(0, ns, true);
      w.timestamp(view, 0);
      const iso = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString();
      const us = ((ns % 1_000_000_000n) / 1000n).toString().padStart(6, "0");
      return text(w) === `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${us}+00`;
    }),
    { numRuns: 20_000 },
  );
  view.setBigInt64(0, -1n, true);
  w.timestamp(view, 0);
  expect(text(w)).toBe("1969-12-31 23:59:59.999999+00");
});
