import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newUser, startTestApi, type TestApi, waitFor } from "../test/harness.ts";
import { insertTop, insertTrades } from "../test/seed.ts";

// Coinbase = 2, Kraken = 1; BTC-USD = 1, ETH-USD = 2, SOL-USD = 3 (schema/instruments.ts).
let api: TestApi;
let user: Awaited<ReturnType<typeof newUser>>;
let tradeId = 1;

beforeAll(async () => {
  // The matcher loop runs for real in this file; API_FEE_BPS makes fees non-zero.
  api = await startTestApi({ API_MATCHER_MS: "20", API_FEE_BPS: "2.5", API_QUOTE_MAX_AGE_MS: "60000" });
  api.deps.start();
  user = await newUser(api, "trader");
});
afterAll(() => api.close());

const post = (path: string, body: unknown) => api.call("POST", path, { token: user.token, body });
const get = (path: string) => api.call("GET", path, { token: user.token });
const trade = (exchange: number, instrumentId: number, price: string) =>
  insertTrades(api.db.sql, [
    { time: new Date(), exchange, instrumentId, tradeId: tradeId++, price, size: "0.01" },
  ]);
// Deep tops: these tests are about prices; depth and cash have their own tests (book.test.ts, cash.test.ts).
const top = (exchange: number, instrumentId: number, bid: string | null, ask: string | null) =>
  insertTop(api.db.sql, { exchange, instrumentId, bid, ask, bidSize: "1000", askSize: "1000" });
async function portfolio(name: string, margin = false): Promise<string> {
  const res = await post("/api/portfolios", { name, margin });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe("the done-when flow", () => {
  test("register, log in, create a portfolio, a market order fills, positions and PnL show it", async () => {
    const docs = await api.call("GET", "/openapi");
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toContain("text/html");

    const email = "new.user@example.com";
    const reg = await api.call("POST", "/api/auth/register", {
      body: { email, password: "a long passphrase" },
    });
    expect(reg.status).toBe(201);
    const login = await api.call("POST", "/api/auth/login", {
      body: { email, password: "a long passphrase" },
    });
    expect(login.status).toBe(200);
    const token = login.body.accessToken;

    const created = await api.call("POST", "/api/portfolios", { token, body: { name: "first" } });
    expect(created.status).toBe(201);
    const pid = created.body.id;

    await top(2, 1, "64250.00", "64250.10");
    const order = await api.call("POST", `/api/portfolios/${pid}/orders`, {
      token,
      body: { symbol: "BTC-USD", exchange: "coinbase", side: "buy", type: "market", quantity: "0.5" },
    });
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({
      status: "filled",
      filledQuantity: "0.5",
      averagePrice: "64250.1",
      side: "buy",
    });

    await trade(2, 1, "64300.00");
    const positions = await api.call("GET", `/api/portfolios/${pid}/positions`, { token });
    expect(positions.status).toBe(200);
    expect(positions.body).toEqual([
      {
        symbol: "BTC-USD",
        quote: "USD",
        exchange: "coinbase",
        quantity: "0.5",
        costBasis: "32125.05",
        averageEntryPrice: "64250.1",
        markPrice: "64300.00",
        markedAt: expect.any(String),
        realizedPnl: "0",
        unrealizedPnl: "24.95", // 0.5 * 64300 - 32125.05, exact
        fees: "8.0312625", // 0.5 * 64250.10 * 2.5 / 10000
      },
    ]);
    const pnl = await api.call("GET", `/api/portfolios/${pid}/pnl`, { token });
    expect(pnl.body.totals).toEqual([
      {
        quote: "USD",
        realizedPnl: "0",
        unrealizedPnl: "24.95",
        fees: "8.0312625",
        netPnl: "16.9187375",
        unmarkedPositions: 0,
        cash: "67866.9187375", // 100000 opening - 32125.05 - 8.0312625
        equity: "100016.9187375", // cash + 0.5 x 64300 = opening + netPnl
      },
      {
        quote: "USDT",
        realizedPnl: "0",
        unrealizedPnl: "0",
        fees: "0",
        netPnl: "0",
        unmarkedPositions: 0,
        cash: "100000",
        equity: "100000",
      },
    ]);
    const fills = await api.call("GET", `/api/portfolios/${pid}/fills`, { token });
    expect(fills.body.items).toHaveLength(1);
    expect(fills.body.items[0]).toMatchObject({
      orderId: order.body.id,
      price: "64250.1",
      liquidity: "taker",
      fee: "8.0312625",
    });
  });
});

describe("paper matcher", () => {
  test("a limit order rests, then fills at its price when the BBO crosses it (the loop, not a manual pass)", async () => {
    const pid = await portfolio("resting");
    await top(1, 2, "3000.00", "3001.00");
    const order = await post(`/api/portfolios/${pid}/orders`, {
      symbol: "ETH-USD",
      exchange: "kraken",
      side: "buy",
      type: "limit",
      quantity: "2",
      limitPrice: "2990.50",
    });
    expect(order.status).toBe(201);
    expect(order.body.status).toBe("open");
    expect((await get(`/api/portfolios/${pid}/orders?status=open`)).body.items).toHaveLength(1);

    await top(1, 2, "2989.00", "2990.00"); // ask 2990 <= limit 2990.50
    await waitFor(
      async () => (await get(`/api/portfolios/${pid}/orders/${order.body.id}`)).body.status === "filled",
      "fill",
    );
    const fills = (await get(`/api/portfolios/${pid}/fills?orderId=${order.body.id}`)).body.items;
    expect(fills).toEqual([
      expect.objectContaining({ price: "2990.5", quantity: "2", liquidity: "maker", side: "buy" }),
    ]);
  });

  test("a marketable limit order fills on arrival at the better quote (taker)", async () => {
    const pid = await portfolio("marketable", true);
    await top(2, 3, "150.10", "150.20");
    const order = await post(`/api/portfolios/${pid}/orders`, {
      symbol: "SOL-USD",
      exchange: "coinbase",
      side: "sell",
      type: "limit",
      quantity: "10",
      limitPrice: "149",
    });
    expect(order.body).toMatchObject({ status: "filled", averagePrice: "150.1" });
  });

  test("concurrent passes never fill an order twice", async () => {
    const pid = await portfolio("race", true);
    await top(1, 1, "50000.0", "50001.0");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const o = await post(`/api/portfolios/${pid}/orders`, {
        symbol: "BTC-USD",
        exchange: "kraken",
        side: "sell",
        type: "limit",
        quantity: "0.1",
        limitPrice: "50100",
      });
      expect(o.status).toBe(201);
      ids.push(o.body.id);
    }
    await top(1, 1, "50200.0", "50201.0");
    await Promise.all([api.deps.matcher.pass(), api.deps.matcher.pass(), api.deps.matcher.pass()]);
    await waitFor(
      async () => (await get(`/api/portfolios/${pid}/orders?status=open`)).body.items.length === 0,
      "fills",
    );
    const fills = (await get(`/api/portfolios/${pid}/fills`)).body.items;
    expect(fills.map((f: { orderId: string }) => f.orderId).sort()).toEqual([...ids].sort());
  });

  test("a market order without a recent quote is refused with 409 and leaves no order", async () => {
    const pid = await portfolio("no-quote");
    const res = await post(`/api/portfolios/${pid}/orders`, {
      symbol: "ETH-USDT",
      exchange: "binance",
      side: "buy",
      type: "market",
      quantity: "1",
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe("no_quote");
    expect(res.body.message).toContain("ETH-USDT on binance");
    expect((await get(`/api/portfolios/${pid}/orders`)).body.items).toHaveLength(0);

    await insertTop(api.db.sql, {
      exchange: 3,
      instrumentId: 5,
      bid: "3000",
      ask: "3001",
      time: new Date(Date.now() - 120_000).toISOString(),
    });
    const stale = await post(`/api/portfolios/${pid}/orders`, {
      symbol: "ETH-USDT",
      exchange: "binance",
      side: "buy",
      type: "market",
      quantity: "1",
    });
    expect(stale.status).toBe(409);
  });
});

describe("ledger: FIFO lots, realized and unrealized PnL, exact", () => {
  test("partial close, flip to short, mark to the latest trade", async () => {
    const pid = await portfolio("fifo", true);
    const limit = (side: string, quantity: string, price: string) =>
      post(`/api/portfolios/${pid}/orders`, {
        symbol: "SOL-USD",
        exchange: "kraken",
        side,
        type: "limit",
        quantity,
        limitPrice: price,
      });
    await top(1, 3, "99", "100");
    expect((await limit("buy", "1", "100")).body.status).toBe("filled"); // long 1 @ 100
    await top(1, 3, "109", "110");
    expect((await limit("buy", "1", "110")).body.status).toBe("filled"); // long 2: 1 @ 100, 1 @ 110
    await top(1, 3, "120", "121");
    expect((await limit("sell", "1.5", "120")).body.status).toBe("filled"); // +20 + 0.5 * 10 = 25
    await top(1, 3, "90", "91");
    expect((await limit("sell", "1", "90")).body.status).toBe("filled"); // closes 0.5 @ 110 (-10), short 0.5 @ 90
    await trade(1, 3, "80.00");

    const positions = (await get(`/api/portfolios/${pid}/positions`)).body;
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({
      symbol: "SOL-USD",
      exchange: "kraken",
      quantity: "-0.5",
      costBasis: "-45",
      averageEntryPrice: "90",
      markPrice: "80.00",
      realizedPnl: "15",
      unrealizedPnl: "5", // -0.5 * 80 - (-45)
      // 2.5 bps of 100 + 110 + 180 + 90 = 480 notional
      fees: "0.12",
    });
    const fills = (await get(`/api/portfolios/${pid}/fills`)).body.items;
    expect(fills.map((f: { realizedPnl: string }) => f.realizedPnl)).toEqual(["-10", "25", "0", "0"]);
  });

  test("closing flat keeps realized PnL and leaves no open lot", async () => {
    const pid = await portfolio("flat");
    await top(2, 2, "1999.99", "2000.01");
    await post(`/api/portfolios/${pid}/orders`, {
      symbol: "ETH-USD",
      exchange: "coinbase",
      side: "buy",
      type: "market",
      quantity: "0.3",
    });
    await top(2, 2, "2100.00", "2100.02");
    await post(`/api/portfolios/${pid}/orders`, {
      symbol: "ETH-USD",
      exchange: "coinbase",
      side: "sell",
      type: "market",
      quantity: "0.3",
    });
    const [p] = (await get(`/api/portfolios/${pid}/positions`)).body;
    expect(p).toMatchObject({
      quantity: "0",
      costBasis: "0",
      averageEntryPrice: null,
      realizedPnl: "29.997",
    });
    const lots = await api.db.sql`SELECT count(*)::int AS n FROM position_lots WHERE portfolio_id = ${pid}`;
    expect(lots[0]!.n).toBe(0);
  });
});

describe("orders: validation and lifecycle", () => {
  let pid: string;
  beforeAll(async () => {
    pid = await portfolio("validation");
  });
  const place = (body: Record<string, unknown>) =>
    post(`/api/portfolios/${pid}/orders`, {
      symbol: "BTC-USD",
      exchange: "coinbase",
      side: "buy",
      type: "limit",
      quantity: "1",
      limitPrice: "1",
      ...body,
    });

  test.each([
    [{ quantity: "0" }, "quantity must be greater than zero"],
    [{ quantity: "0.123456789" }, "quantity has 9 decimal places; BTC-USD allows at most 8"],
    [{ limitPrice: "1.001" }, "limitPrice has 3 decimal places; BTC-USD allows at most 2"],
    [{ quantity: 0.5 }, 'quantity must be a positive decimal string such as "0.5"'],
    [{ quantity: "-1" }, 'quantity must be a positive decimal string such as "0.5"'],
    [{ quantity: "1e3" }, 'quantity must be a positive decimal string such as "0.5"'],
    [{ side: "hold" }, "side must be one of buy, sell"],
    [{ side: undefined }, "side must be one of buy, sell"],
    [{ type: "stop" }, "type must be one of market, limit"],
    [{ limitPrice: undefined }, "a limit order needs limitPrice"],
    [{ type: "market" }, "a market order takes no limitPrice"],
    [{ exchange: "binance" }, "BTC-USD is not listed on binance"],
    [{ exchange: "ftx" }, "exchange must be one of kraken, coinbase, binance"],
    [{ symbol: "BTCUSD" }, "symbol must be a canonical symbol like BTC-USD"],
    [{ clientOrderId: "has space" }, "clientOrderId must be 1-64 of A-Z a-z 0-9 _ . : -"],
  ])("%p -> 422 %s", async (patch, message) => {
    const res = await place(patch);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: "validation", message });
  });

  test("unknown symbol is 422, malformed JSON is 400, a wrong portfolio id is 422", async () => {
    expect((await place({ symbol: "DOGE-USD" })).status).toBe(422);
    const bad = await api.call("POST", `/api/portfolios/${pid}/orders`, {
      token: user.token,
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("bad_request");
    const res = await api.call("GET", "/api/portfolios/not-a-uuid/orders", { token: user.token });
    expect(res.status).toBe(422);
    expect(res.body.message).toBe("portfolioId must be a uuid");
  });

  test("cancel an open order once; filled and canceled orders cannot be canceled", async () => {
    const open = await place({ clientOrderId: "c-1", limitPrice: "1.00" });
    expect(open.body.status).toBe("open");
    expect((await place({ clientOrderId: "c-1" })).status).toBe(409);
    const cancel = await api.call("DELETE", `/api/portfolios/${pid}/orders/${open.body.id}`, {
      token: user.token,
    });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe("canceled");
    const again = await api.call("DELETE", `/api/portfolios/${pid}/orders/${open.body.id}`, {
      token: user.token,
    });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe("order is canceled; only open orders can be canceled");
  });

  test("orders page with a cursor and filter by status, side and symbol", async () => {
    for (let i = 0; i < 5; i++) await place({ limitPrice: `2.0${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Awaited<ReturnType<typeof get>> = await get(
        `/api/portfolios/${pid}/orders?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...res.body.items.map((o: { id: string }) => o.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    const all = (await get(`/api/portfolios/${pid}/orders?limit=500`)).body.items.map(
      (o: { id: string }) => o.id,
    );
    expect(seen).toEqual(all);
    expect(all.length).toBeGreaterThanOrEqual(6);
    const asc = (await get(`/api/portfolios/${pid}/orders?limit=500&order=asc`)).body.items.map(
      (o: { id: string }) => o.id,
    );
    expect(asc).toEqual([...all].reverse());
    expect((await get(`/api/portfolios/${pid}/orders?status=canceled`)).body.items).toHaveLength(1);
    expect((await get(`/api/portfolios/${pid}/orders?side=sell`)).body.items).toHaveLength(0);
    expect((await get(`/api/portfolios/${pid}/orders?symbol=ETH-USD`)).body.items).toHaveLength(0);
    expect((await get(`/api/portfolios/${pid}/orders?sort=price`)).status).toBe(200); // unknown params are ignored
    expect((await get(`/api/portfolios/${pid}/orders?status=deleted`)).body.message).toBe(
      "status must be one of open, filled, canceled",
    );
    expect((await get(`/api/portfolios/${pid}/orders?cursor=bm9wZQ`)).status).toBe(422);
  });
});

describe("portfolio CRUD", () => {
  test("create, list sorted, rename, delete", async () => {
    const other = await newUser(api, "crud");
    const call = (method: string, path: string, body?: unknown) =>
      api.call(method, path, { token: other.token, body });
    expect((await call("POST", "/api/portfolios", { name: "b" })).status).toBe(201);
    const a = await call("POST", "/api/portfolios", { name: "a", description: "first letter" });
    expect(a.body).toMatchObject({ name: "a", description: "first letter" });
    expect((await call("POST", "/api/portfolios", { name: "a" })).status).toBe(409);
    expect((await call("POST", "/api/portfolios", { name: "   " })).body.message).toBe(
      "name must be 1 to 100 characters, not blank, with no control characters",
    );
    const byName = await call("GET", "/api/portfolios?sort=name&order=desc");
    expect(byName.body.map((p: { name: string }) => p.name)).toEqual(["b", "a"]);
    expect((await call("GET", "/api/portfolios?sort=userId")).body.message).toBe(
      "sort must be one of createdAt, name",
    );
    const renamed = await call("PATCH", `/api/portfolios/${a.body.id}`, { name: "c" });
    expect(renamed.body.name).toBe("c");
    expect((await call("PATCH", `/api/portfolios/${a.body.id}`, { name: "b" })).status).toBe(409);
    expect((await call("PATCH", `/api/portfolios/${a.body.id}`, {})).body.name).toBe("c"); // nothing to change
    expect((await call("DELETE", `/api/portfolios/${a.body.id}`)).status).toBe(204);
    expect((await call("GET", `/api/portfolios/${a.body.id}`)).status).toBe(404);
    expect((await call("GET", "/api/portfolios")).body).toHaveLength(1);
  });
});
