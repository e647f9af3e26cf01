// Stored depth rebuilt from book_changes, and market orders that walk it. Real Postgres.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FLAG_ASK, FLAG_BEGIN, FLAG_END, FLAG_SNAPSHOT } from "../../schema/frame.ts";
import { newUser, startTestApi, type TestApi } from "../test/harness.ts";
import { insertTop } from "../test/seed.ts";
import { storedDepth } from "./depth.ts";
import { str } from "./exact.ts";

let api: TestApi;
let token: string;
beforeAll(async () => {
  api = await startTestApi({ API_FEE_BPS: "0", API_QUOTE_MAX_AGE_MS: "60000" });
  token = (await newUser(api, "depth")).token;
});
afterAll(() => api.close());

let seq = 0;
let ns = BigInt(Date.now() - 20_000) * 1_000_000n;
type Change = [side: "bid" | "ask", price: string, size: string];
/** One exchange update as the bridge stores it: a snapshot (BEGIN on its first frame) or a delta. */
async function update(
  exchange: number,
  instrumentId: number,
  changes: Change[],
  snapshot = false,
  at?: Date,
) {
  ns += 1_000_000n;
  const time = (at ?? new Date(Number(ns / 1_000_000n))).toISOString();
  const rows = changes.map(([side, price, size], i) => ({
    time,
    exchange,
    instrument_id: instrumentId,
    flags:
      (side === "ask" ? FLAG_ASK : 0) |
      (snapshot ? FLAG_SNAPSHOT : 0) |
      (snapshot && i === 0 ? FLAG_BEGIN : 0) |
      (i === changes.length - 1 ? FLAG_END : 0),
    price,
    size,
    update_id: String(++seq),
    seq: ++seq,
    recv_ns: ns.toString(),
  }));
  await api.db.sql`INSERT INTO book_changes ${api.db.sql(rows)}`;
}
const levels = (d: Awaited<ReturnType<typeof storedDepth>>) =>
  d && {
    bids: d.bids.map((l) => [str(l.price), str(l.size)]),
    asks: d.asks.map((l) => [str(l.price), str(l.size)]),
  };

const depth = (instrumentId: number, maxChanges?: number) =>
  storedDepth(api.deps.db, 2, instrumentId, 60_000, maxChanges).then(levels);

describe("storedDepth", () => {
  test("the last snapshot plus the changes after it; size 0 removes a level; an older snapshot is ignored", async () => {
    await update(
      2,
      3,
      [
        ["bid", "1", "1"],
        ["ask", "999", "1"],
      ],
      true,
    ); // an older session
    await update(
      2,
      3,
      [
        ["bid", "99", "1"],
        ["bid", "98", "2"],
        ["ask", "101", "1"],
        ["ask", "102", "3"],
      ],
      true,
    );
    await update(2, 3, [
      ["ask", "101", "0"],
      ["ask", "103", "4"],
      ["bid", "99", "1.5"],
    ]);
    expect(await depth(3)).toEqual({
      bids: [
        ["99", "1.5"],
        ["98", "2"],
      ],
      asks: [
        ["102", "3"],
        ["103", "4"],
      ],
    });
  });

  test("not trusted: no snapshot, too many changes since it, a stale book, a crossed book", async () => {
    expect(await depth(1)).toBeNull(); // nothing stored for BTC-USD yet
    await update(2, 2, [["bid", "5", "1"]]); // deltas without a snapshot
    expect(await depth(2)).toBeNull();
    await update(
      2,
      2,
      [
        ["bid", "3000", "1"],
        ["ask", "3001", "1"],
      ],
      true,
    );
    await update(2, 2, [["ask", "3002", "1"]]);
    expect(await depth(2)).not.toBeNull();
    expect(await depth(2, 2)).toBeNull(); // 3 changes since the snapshot, at most 2 allowed
    await update(2, 2, [["bid", "3005", "1"]]); // bid above the ask: changes were lost
    expect(await depth(2)).toBeNull();
    await update(
      2,
      4,
      [
        ["bid", "60000", "1"],
        ["ask", "60001", "1"],
      ],
      true,
      new Date(Date.now() - 120_000),
    );
    expect(await depth(4)).toBeNull(); // last change older than the quote age limit
  });
});

describe("market orders walk the stored depth", () => {
  test("a buy takes three ask levels at their prices; a sell walks the bids; the rest is canceled", async () => {
    await update(
      2,
      7,
      [
        ["bid", "0.00002000", "1000"],
        ["bid", "0.00001990", "2000"],
        ["ask", "0.00002010", "500"],
        ["ask", "0.00002020", "700"],
        ["ask", "0.00002030", "900"],
      ],
      true,
    );
    // The top says the feed is live (and shows only the first level).
    await insertTop(api.db.sql, {
      exchange: 2,
      instrumentId: 7,
      bid: "0.00002000",
      ask: "0.00002010",
      bidSize: "1000",
      askSize: "500",
    });
    const p = await api.call("POST", "/api/portfolios", { token, body: { name: "walker" } });
    const place = (side: string, quantity: string) =>
      api.call("POST", `/api/portfolios/${p.body.id}/orders`, {
        token,
        body: { symbol: "SHIB-USD", exchange: "coinbase", side, type: "market", quantity },
      });
    const buy = await place("buy", "1500");
    expect(buy.status).toBe(201);
    // 500 @ 0.0000201 + 700 @ 0.0000202 + 300 @ 0.0000203 = 0.03028 / 1500
    expect(buy.body).toMatchObject({
      status: "filled",
      filledQuantity: "1500",
      averagePrice: "0.000020186667",
    });
    const fills = await api.call("GET", `/api/portfolios/${p.body.id}/fills?orderId=${buy.body.id}`, {
      token,
    });
    expect(
      fills.body.items
        .map((f: { price: string; quantity: string }) => [f.price, f.quantity])
        .sort((a: string[], b: string[]) => (a[0]! < b[0]! ? -1 : 1)),
    ).toEqual([
      ["0.0000201", "500"],
      ["0.0000202", "700"],
      ["0.0000203", "300"],
    ]);
    const cash = await api.call("GET", `/api/portfolios/${p.body.id}/cash`, { token });
    expect(cash.body.find((b: { currency: string }) => b.currency === "USD").balance).toBe("99999.96972");

    const sell = await place("sell", "1500"); // bids hold 3000; all 1500 fill: 1000 @ 2000e-8, 500 @ 1990e-8
    expect(sell.body).toMatchObject({ status: "filled", averagePrice: "0.000019966667" });
    const big = await api.call("POST", `/api/portfolios/${p.body.id}/orders`, {
      token,
      body: { symbol: "SHIB-USD", exchange: "coinbase", side: "buy", type: "market", quantity: "5000" },
    });
    expect(big.body).toMatchObject({ status: "canceled", filledQuantity: "2100" }); // all three ask levels
  });
});

test("the matcher's taker walk (an order placed with no quote) uses the stored depth within its limit", async () => {
  const p = await api.call("POST", "/api/portfolios", { token, body: { name: "late taker" } });
  const order = await api.call("POST", `/api/portfolios/${p.body.id}/orders`, {
    token,
    body: {
      symbol: "ETH-USDT",
      exchange: "coinbase",
      side: "buy",
      type: "limit",
      quantity: "5",
      limitPrice: "3002",
    },
  });
  expect(order.body.status).toBe("open");
  await update(
    2,
    5,
    [
      ["bid", "2999", "1"],
      ["ask", "3000", "1"],
      ["ask", "3001", "2"],
      ["ask", "3003", "10"],
    ],
    true,
  );
  await insertTop(api.db.sql, {
    exchange: 2,
    instrumentId: 5,
    bid: "2999",
    ask: "3000",
    bidSize: "1",
    askSize: "1",
  });
  expect(await api.deps.matcher.pass()).toBe(1);
  const after = await api.call("GET", `/api/portfolios/${p.body.id}/orders/${order.body.id}`, { token });
  // 1 @ 3000 + 2 @ 3001 (3003 is beyond the limit); the other 2 rest at 3002
  expect(after.body).toMatchObject({
    status: "open",
    filledQuantity: "3",
    averagePrice: "3000.666666666667",
  });
  const cash = await api.call("GET", `/api/portfolios/${p.body.id}/cash`, { token });
  expect(cash.body.find((b: { currency: string }) => b.currency === "USDT")).toEqual({
    currency: "USDT",
    balance: "90998", // 100000 - 9002
    reserved: "6004", // 2 x 3002
    available: "84994",
  });
});
