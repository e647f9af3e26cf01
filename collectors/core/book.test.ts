import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { OrderBook } from "./book.ts";

describe("OrderBook", () => {
  test("keeps sides sorted best-first and removes on size 0", () => {
    const book = new OrderBook();
    book.set(false, 100, 1);
    book.set(false, 102, 2);
    book.set(false, 101, 3);
    book.set(true, 105, 1);
    book.set(true, 103, 1);
    expect(Array.from(book.bids.prices.subarray(0, book.bids.length))).toEqual([102, 101, 100]);
    expect(Array.from(book.asks.prices.subarray(0, book.asks.length))).toEqual([103, 105]);
    book.set(false, 102, 0);
    expect(book.bestBid).toBe(101);
    expect(book.isCrossed()).toBe(false);
    book.set(false, 103, 1);
    expect(book.isCrossed()).toBe(true);
  });

  test("matches a map model under random updates, with truncation", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 5 })), {
          maxLength: 400,
        }),
        (updates) => {
          const book = new OrderBook();
          const model = [new Map<number, number>(), new Map<number, number>()];
          for (const [isAsk, price, size] of updates) {
            book.set(isAsk, price, size);
            const side = model[isAsk ? 1 : 0]!;
            if (size === 0) side.delete(price);
            else side.set(price, size);
          }
          const bids = [...model[0]!.entries()].sort((a, b) => b[0] - a[0]);
          const asks = [...model[1]!.entries()].sort((a, b) => a[0] - b[0]);
          expect(Array.from(book.bids.prices.subarray(0, book.bids.length))).toEqual(bids.map((e) => e[0]));
          expect(Array.from(book.bids.sizes.subarray(0, book.bids.length))).toEqual(bids.map((e) => e[1]));
          expect(Array.from(book.asks.prices.subarray(0, book.asks.length))).toEqual(asks.map((e) => e[0]));
          book.truncate(10);
          expect(book.bids.length).toBe(Math.min(10, bids.length));
        },
      ),
    );
  });
});
