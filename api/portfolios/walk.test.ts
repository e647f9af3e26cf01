// walkBook on generated books: what it takes adds up exactly, never exceeds a level or the order, never
// trades beyond the limit, and stops only when the order is done, the levels run out, or the limit binds.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { buyNeeds } from "./cover.ts";
import { add, cmp, type Dec, dec, mul, str, sum, ZERO } from "./exact.ts";
import { type Level, walkBook, withinLimit } from "./walk.ts";

const decimal = (maxScale: number) =>
  fc
    .tuple(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.integer({ min: 0, max: maxScale }))
    .map(([units, scale]): Dec => ({ units, scale }));

/** Levels best first for a taker on `side`: asks ascending, bids descending. */
const book = (side: "buy" | "sell") =>
  fc
    .array(fc.tuple(decimal(4), decimal(8)), { maxLength: 8 })
    .map((raw) =>
      raw
        .map(([price, size]): Level => ({ price, size }))
        .sort((a, b) => (side === "buy" ? cmp(a.price, b.price) : cmp(b.price, a.price))),
    );

describe("walkBook", () => {
  test("exact sums, bounded by levels, quantity and limit", () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom("buy" as const, "sell" as const)
          .chain((side) =>
            fc.tuple(fc.constant(side), book(side), decimal(8), fc.option(decimal(4), { nil: undefined })),
          ),
        ([side, levels, quantity, limit]) => {
          const w = walkBook(levels, side, quantity, limit);
          const taken = sum(w.pieces.map((p) => p.quantity));
          expect(str(taken)).toBe(str(w.filled));
          expect(cmp(w.filled, quantity)).toBeLessThanOrEqual(0);
          expect(str(w.notional)).toBe(
            str(w.pieces.reduce((n, p) => add(n, mul(p.price, p.quantity)), ZERO)),
          );
          w.pieces.forEach((p, i) => {
            expect(cmp(p.quantity, levels[i]!.size)).toBeLessThanOrEqual(0);
            expect(p.price).toEqual(levels[i]!.price);
            expect(withinLimit(side, p.price, limit)).toBe(true);
          });
          // It stopped for a reason: done, out of levels, or the next level is beyond the limit.
          const next = levels[w.pieces.length];
          const done = cmp(w.filled, quantity) === 0;
          expect(done || next === undefined || !withinLimit(side, next.price, limit)).toBe(true);
        },
      ),
    );
  });

  test("a buy walks three ask levels and stops at its limit", () => {
    const asks = [
      { price: dec("100"), size: dec("1") },
      { price: dec("100.5"), size: dec("2") },
      { price: dec("101"), size: dec("5") },
      { price: dec("102"), size: dec("5") },
    ];
    const w = walkBook(asks, "buy", dec("10"), dec("101"));
    expect(w.pieces.map((p) => [str(p.price), str(p.quantity)])).toEqual([
      ["100", "1"],
      ["100.5", "2"],
      ["101", "5"],
    ]);
    expect(str(w.filled)).toBe("8");
    expect(str(w.notional)).toBe("806");
    // The 2 left rest at the limit: 806 + 2 x 101 = 1008, plus 2.5 bps = 0.252
    expect(
      str(buyNeeds({ quantity: dec("10"), limit: dec("101"), walk: w, levels: asks, feeBps: "2.5" })),
    ).toBe("1008.252");
  });

  test("a market buy's unfilled rest is priced at the worst level it reached", () => {
    const asks = [
      { price: dec("10"), size: dec("1") },
      { price: dec("11"), size: dec("1") },
    ];
    const w = walkBook(asks, "buy", dec("5"));
    expect(str(buyNeeds({ quantity: dec("5"), limit: undefined, walk: w, levels: asks, feeBps: "0" }))).toBe(
      "54",
    );
  });
});
