// The stream message checker refuses every missing, extra or mistyped field, and takes a batch (JSON array).
import { expect, test } from "bun:test";
import fc from "fast-check";
import { checkServerMessage, MESSAGE_FIELDS, parseServerData, ServerMessageError } from "./messages.ts";

const good = {
  trade: {
    type: "trade",
    exchange: "kraken",
    symbol: "BTC-USD",
    price: "50000.12",
    size: "0.00000001",
    side: "sell",
    tradeId: "123456789",
    seq: 7,
    tsExchange: "1700000000123456789",
    tsRecv: "1700000000124000000",
  },
  book: {
    type: "book",
    exchange: "coinbase",
    symbol: "SOL-USD",
    snapshot: true,
    reset: true,
    bids: [["100", "1"]],
    asks: [],
    updateId: "77",
    seq: 3,
    tsExchange: null,
    tsRecv: "5",
  },
  bbo: {
    type: "bbo",
    exchange: "binance",
    symbol: "ETH-USDT",
    bidPrice: "3000.5",
    bidSize: "1.5",
    askPrice: null,
    askSize: null,
    seq: 11,
    tsExchange: "1",
    tsRecv: "2",
  },
  status: {
    type: "status",
    exchange: "kraken",
    symbol: null,
    status: "book_resync",
    detail: 1,
    count: 0,
    reason: "checksum",
    seq: 4,
    tsExchange: null,
    tsRecv: "11",
  },
  error: {
    type: "error",
    code: "unknown_values",
    message: 'unknown exchanges "ftx"',
    unknown: { exchanges: ["ftx"] },
  },
  subscribed: { type: "subscribed", topics: 5, added: 5 },
  unsubscribed: { type: "unsubscribed", topics: 2, removed: 3 },
} as const;

test("the documented examples pass, and every type has an example", () => {
  expect(Object.keys(good).sort()).toEqual(Object.keys(MESSAGE_FIELDS).sort());
  for (const m of Object.values(good)) expect(checkServerMessage(m)).toBeUndefined();
  expect(parseServerData(JSON.stringify(Object.values(good)))).toHaveLength(7);
});

test("a missing required field, an extra field or a wrong value is named", () => {
  for (const [type, m] of Object.entries(good)) {
    for (const field of MESSAGE_FIELDS[type as keyof typeof good].required) {
      const { [field]: _, ...rest } = m as Record<string, unknown>;
      expect(checkServerMessage(rest)).toContain(
        field === "type" ? "unknown message type" : `missing field "${field}"`,
      );
    }
    expect(checkServerMessage({ ...m, extra: 1 })).toContain('unexpected field "extra"');
  }
  const wrong: [keyof typeof good, string, unknown][] = [
    ["trade", "price", 50000.12], // a float, never
    ["trade", "price", "5e4"],
    ["trade", "price", "1.50"], // trailing zeros are trimmed
    ["trade", "side", "short"],
    ["trade", "tradeId", "-1"],
    ["trade", "seq", 1.5],
    ["trade", "exchange", "ftx"],
    ["book", "bids", [["1", "2", "3"]]],
    ["book", "partial", false],
    ["bbo", "bidPrice", 1],
    ["status", "status", "sleepy"],
    ["status", "tsRecv", 1700000000124000000],
    ["error", "code", "oops"],
    ["subscribed", "topics", "5"],
  ];
  for (const [type, field, value] of wrong) {
    expect(checkServerMessage({ ...good[type], [field]: value })).toContain(`${field}: expected`);
  }
});

test("decimal and integer text fields take exactly canonical digits", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.nat(18), (m, decimals) => {
      const digits = m.toString().padStart(decimals + 1, "0");
      const frac = digits.slice(digits.length - decimals).replace(/0+$/, "");
      const text = frac
        ? `${digits.slice(0, digits.length - decimals)}.${frac}`
        : digits.slice(0, digits.length - decimals);
      expect(checkServerMessage({ ...good.trade, price: text, tradeId: m.toString() })).toBeUndefined();
      expect(checkServerMessage({ ...good.trade, price: `0${text}` })).toBeDefined();
    }),
  );
});

test("parseServerData throws a ServerMessageError for non-JSON and for any bad element of a batch", () => {
  expect(() => parseServerData("{not json")).toThrow(ServerMessageError);
  expect(() => parseServerData(JSON.stringify([good.trade, { ...good.bbo, seq: "1" }]))).toThrow(
    "bbo message: seq: expected",
  );
});
