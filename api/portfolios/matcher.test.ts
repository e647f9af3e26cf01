// The matcher's taker/maker rule: an order that first meets a book which crosses it is a taker and fills at
// the book; an order that rested against a book fills at its own limit when a later book crosses it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { newUser, startTestApi, type TestApi } from "../test/harness.ts";
import { insertTop } from "../test/seed.ts";

let api: TestApi;
let token: string;
beforeAll(async () => {
  // The loop is off: passes are run by hand, so each step is deterministic.
  api = await startTestApi({ API_FEE_BPS: "0", API_QUOTE_MAX_AGE_MS: "60000" });
  token = (await newUser(api, "matcher")).token;
});
afterAll(() => api.close());

const call = (method: string, path: string, body?: unknown) => api.call(method, path, { token, body });
let clock = Date.now() - 30_000;
/** A book top strictly newer than the previous one (the matcher compares book times). */
const top = (instrumentId: number, bid: string, ask: string, size = "5") => {
  clock += 1000;
  return insertTop(api.db.sql, {
    exchange: 2,
    instrumentId,
    bid,
    ask,
    bidSize: size,
    askSize: size,
    time: new Date(clock).toISOString(),
  });
};
async function place(pid: string, body: Record<string, unknown>) {
  const res = await call("POST", `/api/portfolios/${pid}/orders`, {
    exchange: "coinbase",
    type: "limit",
    ...body,
  });
  expect(res.status).toBe(201);
  return res.body;
}
const order = async (pid: string, id: string) =>
  (await call("GET", `/api/portfolios/${pid}/orders/${id}`)).body;
const fills = async (pid: string, id: string) =>
  (await call("GET", `/api/portfolios/${pid}/fills?orderId=${id}`)).body.items;
async function portfolio(name: string): Promise<string> {
  const res = await call("POST", "/api/portfolios", {
    name,
    cash: [{ currency: "USD", amount: "10000000" }],
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

test("a buy limit placed with no quote fills at the ask when quotes return (taker), not at its limit", async () => {
  const pid = await portfolio("no-quote-buy");
  const o = await place(pid, { symbol: "SOL-USD", side: "buy", quantity: "2", limitPrice: "100000" });
  expect(o.status).toBe("open");
  await api.deps.matcher.pass(); // still no quote: nothing happens
  expect((await order(pid, o.id)).status).toBe("open");

  await top(3, "149.90", "150.00");
  expect(await api.deps.matcher.pass()).toBe(1);
  expect(await order(pid, o.id)).toMatchObject({
    status: "filled",
    filledQuantity: "2",
    averagePrice: "150",
  });
  expect(await fills(pid, o.id)).toEqual([
    expect.objectContaining({ price: "150", quantity: "2", liquidity: "taker" }),
  ]);
});

test("a sell limit placed with no quote fills at the bid when quotes return (taker)", async () => {
  const pid = await portfolio("no-quote-sell");
  await top(2, "3000", "3000.5", "10");
  await place(pid, { symbol: "ETH-USD", side: "buy", quantity: "1", limitPrice: "3000.5" }); // hold 1 to sell
  await api.db.sql`DELETE FROM book_tops WHERE instrument_id = 2`;
  const o = await place(pid, { symbol: "ETH-USD", side: "sell", quantity: "1", limitPrice: "1" });
  expect(o.status).toBe("open");
  await top(2, "2999", "3001", "10");
  await api.deps.matcher.pass();
  expect(await fills(pid, o.id)).toEqual([
    expect.objectContaining({ price: "2999", quantity: "1", liquidity: "taker" }),
  ]);
});

test("a limit order that rested is filled at its limit (maker) by a later book that crosses it", async () => {
  const pid = await portfolio("maker");
  await top(1, "64000", "64010");
  const o = await place(pid, { symbol: "BTC-USD", side: "buy", quantity: "0.5", limitPrice: "63990" });
  expect(o.status).toBe("open");
  await api.deps.matcher.pass();
  expect((await order(pid, o.id)).status).toBe("open"); // the same book does not cross it
  await top(1, "63900", "63950"); // the ask moved through the bid
  expect(await api.deps.matcher.pass()).toBe(1);
  expect(await fills(pid, o.id)).toEqual([
    expect.objectContaining({ price: "63990", quantity: "0.5", liquidity: "maker" }),
  ]);
});

test("no quote at placement, then a book that does not cross: the order rests, and a later cross is a maker fill", async () => {
  const pid = await portfolio("rest-later");
  await api.db.sql`DELETE FROM book_tops WHERE instrument_id = 3`;
  const o = await place(pid, { symbol: "SOL-USD", side: "buy", quantity: "1", limitPrice: "140" });
  await top(3, "149", "150");
  await api.deps.matcher.pass();
  expect((await order(pid, o.id)).status).toBe("open");
  await top(3, "138", "139");
  await api.deps.matcher.pass();
  expect(await fills(pid, o.id)).toEqual([
    expect.objectContaining({ price: "140", quantity: "1", liquidity: "maker" }),
  ]);
});

test("a taker walk that the visible depth cannot finish: the rest rests at the limit and fills as a maker later", async () => {
  const pid = await portfolio("partial-taker");
  await api.db.sql`DELETE FROM book_tops WHERE instrument_id = 1`;
  const o = await place(pid, { symbol: "BTC-USD", side: "buy", quantity: "3", limitPrice: "65000" });
  await top(1, "64000", "64100", "1"); // one visible BTC on the ask
  await api.deps.matcher.pass();
  expect(await order(pid, o.id)).toMatchObject({
    status: "open",
    filledQuantity: "1",
    averagePrice: "64100",
  });
  await api.deps.matcher.pass(); // the same book again: nothing more (it rested against it)
  expect((await fills(pid, o.id)).length).toBe(1);
  await top(1, "64000", "64050", "1"); // a later book that still crosses it
  await api.deps.matcher.pass();
  const done = await order(pid, o.id);
  expect(done).toMatchObject({ status: "filled", filledQuantity: "3" });
  // (1 x 64100 + 2 x 65000) / 3 = 64700
  expect(done.averagePrice).toBe("64700");
  expect(
    (await fills(pid, o.id)).map((f: { liquidity: string; price: string }) => [f.liquidity, f.price]),
  ).toEqual([
    ["maker", "65000"],
    ["taker", "64100"],
  ]);
});
