import { expect, test } from "bun:test";
import type { BookMessage, StatusMessage } from "../lib/messages.ts";
import { makeLadder } from "./ladder.ts";

const book = (p: Partial<BookMessage>): BookMessage => ({
  type: "book",
  exchange: "kraken",
  symbol: "BTC-USD",
  snapshot: false,
  reset: false,
  bids: [],
  asks: [],
  updateId: "1",
  seq: 1,
  tsExchange: null,
  tsRecv: "1700000000000000000",
  ...p,
});
const status = (s: string, reason?: string): StatusMessage => ({
  type: "status",
  exchange: "kraken",
  symbol: "BTC-USD",
  status: s,
  detail: 0,
  count: 0,
  ...(reason ? { reason } : {}),
  seq: 1,
  tsExchange: null,
  tsRecv: "1",
});

test("snapshot then deltas: absolute sizes, 0 deletes, sorted best first, cumulative exact", () => {
  const l = makeLadder(2, 8);
  l.applyBook(
    book({
      snapshot: true,
      reset: true,
      bids: [
        ["99.9", "2"],
        ["100", "0.1"],
        ["99.5", "0.2"],
      ],
      asks: [
        ["100.2", "1"],
        ["100.1", "0.00000001"],
      ],
    }),
  );
  l.applyBook(
    book({
      bids: [
        ["99.9", "0"],
        ["99.95", "0.3"],
      ],
      asks: [["100.2", "1.5"]],
    }),
  );
  const v = l.view(10);
  expect(v.bids).toEqual([
    { price: "100", size: "0.1", total: "0.1" },
    { price: "99.95", size: "0.3", total: "0.4" },
    { price: "99.5", size: "0.2", total: "0.6" },
  ]);
  expect(v.asks).toEqual([
    { price: "100.1", size: "0.00000001", total: "0.00000001" },
    { price: "100.2", size: "1.5", total: "1.50000001" },
  ]);
  expect(v.spread).toBe("0.1");
  expect(l.view(1).bids).toHaveLength(1);
});

test("a reset clears the old book; the resync mark follows status and a fresh snapshot", () => {
  const l = makeLadder(2, 8);
  l.applyBook(book({ reset: true, snapshot: true, bids: [["1", "1"]], asks: [["2", "1"]] }));
  l.applyStatus(status("book_resync", "checksum"));
  expect(l.view(5)).toMatchObject({ resyncing: true, reason: "checksum" });
  l.applyBook(book({ reset: true, snapshot: true, bids: [["1.5", "3"]], asks: [] }));
  const v = l.view(5);
  expect(v.resyncing).toBe(false);
  expect(v.bids).toEqual([{ price: "1.5", size: "3", total: "3" }]);
  expect(v.asks).toEqual([]);
  expect(v.spread).toBeNull();
  l.applyStatus(status("book_resync", "sequence_gap"));
  l.applyStatus(status("book_synced"));
  expect(l.view(5).resyncing).toBe(false);
});
