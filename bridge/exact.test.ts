// Exact text for i64 fields: compared with BigInt arithmetic over edge cases and random values.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { encodeFrame, FRAME_SIZE } from "../schema/frame.ts";
import {
  mantissaText,
  nsText,
  SLOT_ID,
  SLOT_PRICE,
  SLOT_SIZE,
  SLOT_TS_EXCHANGE,
  SLOT_TS_RECV,
  u64Text,
} from "./exact.ts";

const view = new DataView(new ArrayBuffer(16));

test("the slots are where the codec writes each field", () => {
  const v = new DataView(new ArrayBuffer(FRAME_SIZE));
  encodeFrame(v, 0, {
    kind: 1,
    flags: 0,
    exchange: 2,
    instrument: 3,
    seq: 4,
    id: 5,
    price: 6,
    size: 7,
    tsExchange: 8,
    tsRecv: 9,
  });
  expect(
    [SLOT_ID, SLOT_PRICE, SLOT_SIZE, SLOT_TS_EXCHANGE, SLOT_TS_RECV].map((o) => v.getBigInt64(o, true)),
  ).toEqual([5n, 6n, 7n, 8n, 9n]);
});

test("nsText equals the i64 exactly, for every value", () => {
  const edges = [
    0n,
    1n,
    999_999_999n,
    1_000_000_000n,
    1_700_000_000_999_999_999n,
    (1n << 53n) + 1n,
    (1n << 63n) - 1n,
    -1n,
    -(1n << 63n),
  ];
  for (const ns of edges) {
    view.setBigInt64(0, ns, true);
    expect(nsText(view, 0)).toBe(ns.toString());
  }
  fc.assert(
    fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (ns) => {
      view.setBigInt64(0, ns, true);
      return nsText(view, 0) === ns.toString();
    }),
    { numRuns: 20_000 },
  );
});

test("u64 and mantissa text are exact beyond 2^53", () => {
  view.setBigUint64(0, (1n << 64n) - 1n, true);
  expect(u64Text(view, 0)).toBe("18446744073709551615");
  view.setBigInt64(0, 9_007_199_254_740_993n, true);
  expect(mantissaText(view, 0, 8)).toBe("90071992.54740993");
  view.setBigInt64(0, -150n, true);
  expect(mantissaText(view, 0, 2)).toBe("-1.5");
});
