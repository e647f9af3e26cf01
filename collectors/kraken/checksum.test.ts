import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { formatFixed, parseFixed } from "../../schema/decimal.ts";
import { OrderBook } from "../core/book.ts";
import { bookChecksum, crc32Text } from "./checksum.ts";

const example = JSON.parse(
  readFileSync(`${import.meta.dir}/fixtures/v2_docs_checksum_worked_example_BTCUSD.json`, "utf8"),
) as {
  snapshot: { data: Array<{ bids: [string, string][]; asks: [string, string][]; checksum: number }> };
  asks_string: string;
  bids_string: string;
  expected_crc32_unsigned: number;
  wrong_if_trailing_zeros_dropped_crc32: number;
};

/** The guide's algorithm, spelled out on text: the reference our mantissa-fed CRC must agree with. */
function referenceChecksum(book: OrderBook, pd: number, sd: number, pp: number, qp: number): number {
  const level = (price: number, size: number) => {
    const p = (formatFixed(price, pd, false) + "0".repeat(Math.max(0, pp - pd))).replace(".", "");
    const q = (formatFixed(size, sd, false) + "0".repeat(Math.max(0, qp - sd))).replace(".", "");
    // Precision below the frame decimals: drop the (zero) digits Kraken does not print.
    const cut = (s: string, extra: number) => (extra > 0 ? s.slice(0, s.length - extra) : s);
    return cut(p, pd - pp).replace(/^0+/, "") + cut(q, sd - qp).replace(/^0+/, "");
  };
  let text = "";
  for (let i = 0; i < Math.min(10, book.asks.length); i++)
    text += level(book.asks.prices[i]!, book.asks.sizes[i]!);
  for (let i = 0; i < Math.min(10, book.bids.length); i++)
    text += level(book.bids.prices[i]!, book.bids.sizes[i]!);
  return crc32Text(text);
}

describe("Kraken book checksum", () => {
  test("the guide's worked example: intermediate strings and 3310070434", () => {
    expect(crc32Text(example.asks_string + example.bids_string)).toBe(3310070434);
    const book = new OrderBook();
    const snap = example.snapshot.data[0]!;
    // BTC-USD frames carry 2 price decimals; Kraken's precision is 1: the checksum must print 1.
    for (const [p, q] of snap.bids) book.set(false, parseFixed(p, 2), parseFixed(q, 8));
    for (const [p, q] of snap.asks) book.set(true, parseFixed(p, 2), parseFixed(q, 8));
    const precision = { priceDecimals: 2, sizeDecimals: 8, pricePrecision: 1, qtyPrecision: 8 };
    expect(bookChecksum(book, precision)).toBe(example.expected_crc32_unsigned);
    expect(bookChecksum(book, precision)).toBe(snap.checksum);
  });

  test("dropping trailing zeros gives the documented wrong value 4237635173", () => {
    // JSON.parse then String(): "0.10000000" becomes "0.1". The pitfall the guide warns about.
    const digits = (v: string) => String(Number(v)).replace(".", "").replace(/^0+/, "");
    const snap = example.snapshot.data[0]!;
    const side = (levels: [string, string][]) => levels.map(([p, q]) => digits(p) + digits(q)).join("");
    expect(crc32Text(side(snap.asks) + side(snap.bids))).toBe(example.wrong_if_trailing_zeros_dropped_crc32);
  });

  test("an empty book is crc32 of nothing", () => {
    expect(
      bookChecksum(new OrderBook(), {
        priceDecimals: 2,
        sizeDecimals: 8,
        pricePrecision: 1,
        qtyPrecision: 8,
      }),
    ).toBe(0);
  });

  test("matches the text algorithm for random books, precisions and frame decimals", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 2 }),
        fc.array(
          fc.tuple(
            fc.boolean(),
            fc.integer({ min: 1, max: 2_000_000 }),
            fc.integer({ min: 1, max: 10_000_000_000 }),
          ),
          { maxLength: 40 },
        ),
        (pp, extraP, qp, extraQ, levels) => {
          const pd = pp + extraP;
          const sd = qp + extraQ;
          const book = new OrderBook();
          // Values on Kraken's grid (precision pp/qp), stored as mantissas with pd/sd decimals.
          for (const [isAsk, p, q] of levels) book.set(isAsk, p * 10 ** extraP, q * 10 ** extraQ);
          const precision = { priceDecimals: pd, sizeDecimals: sd, pricePrecision: pp, qtyPrecision: qp };
          expect(bookChecksum(book, precision)).toBe(referenceChecksum(book, pd, sd, pp, qp));
        },
      ),
    );
  });
});
