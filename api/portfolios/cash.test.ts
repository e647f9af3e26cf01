// Cash: opening balances, deposits and withdrawals as ledger entries, orders the cash or position cannot
// cover refused (unless margin is on), reservations for resting orders, market orders limited to the
// visible depth, and equity that always equals the cash put in plus net PnL. Real Postgres.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { treaty } from "@elysiajs/eden";
import { Elysia } from "elysia";
import { errorHandler } from "../errors.ts";
import { newUser, startTestApi, type TestApi } from "../test/harness.ts";
import { insertTop, insertTrades } from "../test/seed.ts";
import { portfoliosController } from "./index.ts";

let api: TestApi;
let token: string;
beforeAll(async () => {
  api = await startTestApi({ API_FEE_BPS: "2.5", API_QUOTE_MAX_AGE_MS: "60000" });
  token = (await newUser(api, "cash")).token;
});
afterAll(() => api.close());

const call = (method: string, path: string, body?: unknown) => api.call(method, path, { token, body });
// Coinbase = 2; BTC-USD = 1, ETH-USD = 2, SOL-USD = 3.
const top = (instrumentId: number, bid: string, ask: string, size: string) =>
  insertTop(api.db.sql, { exchange: 2, instrumentId, bid, ask, bidSize: size, askSize: size });
async function portfolio(body: Record<string, unknown>): Promise<string> {
  const res = await call("POST", "/api/portfolios", body);
  expect(res.status).toBe(201);
  return res.body.id;
}
const order = (pid: string, body: Record<string, unknown>) =>
  call("POST", `/api/portfolios/${pid}/orders`, { exchange: "coinbase", type: "market", ...body });
const balances = async (pid: string) => (await call("GET", `/api/portfolios/${pid}/cash`)).body;
const usd = async (pid: string) =>
  (await balances(pid)).find((b: { currency: string }) => b.currency === "USD");

describe("opening cash", () => {
  test("default: 100000 in every quote currency; explicit; none; bad ones refused", async () => {
    const pid = await portfolio({ name: "default" });
    expect(await balances(pid)).toEqual([
      { currency: "USD", balance: "100000", reserved: "0", available: "100000" },
      { currency: "USDT", balance: "100000", reserved: "0", available: "100000" },
    ]);
    const mine = await portfolio({ name: "explicit", cash: [{ currency: "USD", amount: "2500.125" }] });
    expect(await balances(mine)).toEqual([
      { currency: "USD", balance: "2500.125", reserved: "0", available: "2500.125" },
    ]);
    expect(await balances(await portfolio({ name: "none", cash: [] }))).toEqual([]);
    const twice = await portfolio({
      name: "twice",
      cash: [
        { currency: "USDT", amount: "1.5" },
        { currency: "USDT", amount: "2" },
      ],
    });
    expect(await balances(twice)).toEqual([
      { currency: "USDT", balance: "3.5", reserved: "0", available: "3.5" },
    ]); // one opening entry per item
    const ledger = (await call("GET", `/api/portfolios/${mine}/cash/ledger`)).body;
    expect(ledger.items).toEqual([
      expect.objectContaining({ currency: "USD", amount: "2500.125", kind: "initial", fillId: null }),
    ]);
  });

  test.each([
    [{ cash: [{ currency: "EUR", amount: "1" }] }, "currency must be one of USD, USDT"],
    [{ cash: [{ currency: "usd", amount: "1" }] }, "currency must be one of USD, USDT"],
    [
      { cash: [{ currency: "USD", amount: "-1" }] },
      'amount must be a decimal string greater than zero, such as "100000"',
    ],
    [
      { cash: [{ currency: "USD", amount: 5 }] },
      'amount must be a decimal string greater than zero, such as "100000"',
    ],
    [{ margin: "yes" }, "margin must be true or false"],
  ])("%p -> 422 %s", async (patch, message) => {
    const res = await call("POST", "/api/portfolios", { name: "bad", ...patch });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: "validation", message });
  });
});

describe("deposits and withdrawals", () => {
  test("each is one ledger entry; a withdrawal beyond what is available is refused and stores nothing", async () => {
    const pid = await portfolio({ name: "moves", cash: [{ currency: "USD", amount: "100" }] });
    const dep = await call("POST", `/api/portfolios/${pid}/cash/deposits`, {
      currency: "USD",
      amount: "0.1",
      note: "top up",
    });
    expect(dep.status).toBe(201);
    expect(dep.body).toEqual({
      entry: expect.objectContaining({ amount: "0.1", kind: "deposit", note: "top up", currency: "USD" }),
      balance: { currency: "USD", balance: "100.1", reserved: "0", available: "100.1" },
    });
    const wd = await call("POST", `/api/portfolios/${pid}/cash/withdrawals`, {
      currency: "USD",
      amount: "100",
    });
    expect(wd.status).toBe(201);
    expect(wd.body.entry.amount).toBe("-100");
    expect(wd.body.balance.balance).toBe("0.1");
    const over = await call("POST", `/api/portfolios/${pid}/cash/withdrawals`, {
      currency: "USD",
      amount: "0.11",
    });
    expect(over.status).toBe(422);
    expect(over.body).toEqual({
      error: "insufficient_funds",
      message:
        "withdrawing 0.11 USD needs that much available; 0.1 USD is (the balance less what open buy orders hold)",
    });
    const usdt = await call("POST", `/api/portfolios/${pid}/cash/deposits`, {
      currency: "USDT",
      amount: "7",
    });
    expect(usdt.body.balance).toEqual({ currency: "USDT", balance: "7", reserved: "0", available: "7" });
    const ledger = (await call("GET", `/api/portfolios/${pid}/cash/ledger?currency=USD&limit=2`)).body;
    expect(ledger.items.map((e: { kind: string }) => e.kind)).toEqual(["withdrawal", "deposit"]);
    const rest = (
      await call("GET", `/api/portfolios/${pid}/cash/ledger?currency=USD&cursor=${ledger.nextCursor}`)
    ).body;
    expect(rest).toEqual({ items: [expect.objectContaining({ kind: "initial" })], nextCursor: null });
  });

  test.each([
    [
      "deposits",
      { currency: "USD", amount: "0.000" },
      'amount must be a decimal string greater than zero, such as "2500"',
    ],
    ["deposits", { currency: "GBP", amount: "1" }, "currency must be one of USD, USDT"],
    [
      "deposits",
      { currency: "USD", amount: "1", note: "a\u0000b" },
      "note must be at most 200 characters, with no control characters",
    ],
    [
      "withdrawals",
      { currency: "USD", amount: "1e3" },
      'amount must be a decimal string greater than zero, such as "2500"',
    ],
    ["withdrawals", { amount: "1" }, "currency must be one of USD, USDT"],
  ])("%s %p -> 422 %s", async (route, body, message) => {
    const pid = await portfolio({ name: `hostile-${route}-${message.length}-${Math.random()}` });
    const res = await call("POST", `/api/portfolios/${pid}/cash/${route}`, body);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: "validation", message });
    expect((await call("GET", `/api/portfolios/${pid}/cash/ledger`)).body.items).toHaveLength(2); // openings only
  });

  test.each([
    ["limit=0", "limit must be an integer 1..500"],
    ["limit=501", "limit must be an integer 1..500"],
    ["currency=usd", "currency must be one of USD, USDT"],
    ["cursor=bm9wZQ", "cursor is not valid here; pass nextCursor from the previous page unchanged"],
    ["cursor=%00", "cursor must be a nextCursor value from a previous page"],
  ])("ledger ?%s -> 422 %s", async (query, message) => {
    const pid = await portfolio({ name: `ledger-${query}` });
    const res = await call("GET", `/api/portfolios/${pid}/cash/ledger?${query}`);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: "validation", message });
  });

  test("another user's portfolio is not found", async () => {
    const pid = await portfolio({ name: "private" });
    const other = await newUser(api, "other");
    const res = await api.call("POST", `/api/portfolios/${pid}/cash/deposits`, {
      token: other.token,
      body: { currency: "USD", amount: "1" },
    });
    expect(res.status).toBe(404);
    expect((await api.call("GET", `/api/portfolios/${pid}/cash`, { token: other.token })).status).toBe(404);
  });
});

describe("orders the portfolio cannot cover", () => {
  test("a market buy of 1,000,000 ETH is refused with 422, and nothing is stored", async () => {
    const pid = await portfolio({ name: "whale" });
    await top(2, "3000", "3000.5", "2.5");
    const res = await order(pid, { symbol: "ETH-USD", side: "buy", quantity: "1000000" });
    expect(res.status).toBe(422);
    // 2.5 at the visible ask, the rest priced at that level too: 1000000 x 3000.5 x 1.00025
    expect(res.body).toEqual({
      error: "insufficient_funds",
      message:
        "buying 1000000 ETH-USD on coinbase needs 3001250125 USD including fees; 100000 USD is available",
    });
    expect((await call("GET", `/api/portfolios/${pid}/orders`)).body.items).toEqual([]);
    expect((await usd(pid)).balance).toBe("100000");
  });

  test("a market buy larger than the visible depth fills that depth and the rest is canceled", async () => {
    const pid = await portfolio({ name: "depth" });
    await top(2, "3000", "3000.5", "2.5");
    const res = await order(pid, { symbol: "ETH-USD", side: "buy", quantity: "4" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: "canceled",
      quantity: "4",
      filledQuantity: "2.5",
      averagePrice: "3000.5",
    });
    // paid 2.5 x 3000.5 = 7501.25 plus 2.5 bps = 1.8753125
    expect(await usd(pid)).toEqual({
      currency: "USD",
      balance: "92496.8746875",
      reserved: "0",
      available: "92496.8746875",
    });
  });

  test("a sell needs the position on that exchange; margin allows a short", async () => {
    const pid = await portfolio({ name: "seller" });
    await top(3, "150", "150.1", "100");
    const res = await order(pid, { symbol: "SOL-USD", side: "sell", quantity: "1" });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      error: "insufficient_position",
      message:
        "selling 1 SOL-USD on coinbase needs that much held there; 0 is available (the position less open sell orders). Turn margin on to sell short",
    });
    await insertTop(api.db.sql, {
      exchange: 1,
      instrumentId: 3,
      bid: "150",
      ask: "150.1",
      bidSize: "9",
      askSize: "9",
    });
    const bought = await call("POST", `/api/portfolios/${pid}/orders`, {
      symbol: "SOL-USD",
      exchange: "kraken",
      side: "buy",
      type: "market",
      quantity: "2",
    });
    expect(bought.body.status).toBe("filled");
    expect((await order(pid, { symbol: "SOL-USD", side: "sell", quantity: "1" })).status).toBe(422); // wrong venue
    const margin = await call("PATCH", `/api/portfolios/${pid}`, { margin: true });
    expect(margin.body.margin).toBe(true);
    const short = await order(pid, { symbol: "SOL-USD", side: "sell", quantity: "1" });
    expect(short.body).toMatchObject({ status: "filled", averagePrice: "150" });
  });

  test("resting orders reserve: cash for buys (limit x quantity plus fee), position for sells; cancel releases", async () => {
    const pid = await portfolio({ name: "reserve", cash: [{ currency: "USD", amount: "1000" }] });
    await top(3, "150", "150.1", "100");
    const limit = (side: string, quantity: string, limitPrice: string) =>
      order(pid, { symbol: "SOL-USD", side, type: "limit", quantity, limitPrice });
    const a = await limit("buy", "4", "140"); // rests: 560 + 0.14 fee reserved
    expect(a.body.status).toBe("open");
    expect(await usd(pid)).toEqual({
      currency: "USD",
      balance: "1000",
      reserved: "560.14",
      available: "439.86",
    });
    const b = await limit("buy", "4", "140");
    expect(b.status).toBe(422);
    expect(b.body.message).toBe(
      "buying 4 SOL-USD on coinbase needs 560.14 USD including fees; 439.86 USD is available",
    );
    const wd = await call("POST", `/api/portfolios/${pid}/cash/withdrawals`, {
      currency: "USD",
      amount: "439.87",
    });
    expect(wd.status).toBe(422);
    await call("DELETE", `/api/portfolios/${pid}/orders/${a.body.id}`);
    expect((await usd(pid)).available).toBe("1000");

    expect((await order(pid, { symbol: "SOL-USD", side: "buy", quantity: "3" })).body.status).toBe("filled");
    const s1 = await limit("sell", "2", "200");
    expect(s1.body.status).toBe("open");
    const s2 = await limit("sell", "2", "200");
    expect(s2.status).toBe(422);
    expect(s2.body.message).toContain("1 is available");
  });

  test("concurrent orders cannot together spend more than the cash", async () => {
    const pid = await portfolio({ name: "race", cash: [{ currency: "USD", amount: "1000" }] });
    await top(3, "99.99", "100", "1000");
    // Each costs 300.075 with its fee: three fit in 1000, a fourth does not.
    const results = await Promise.all(
      Array.from({ length: 8 }, () => order(pid, { symbol: "SOL-USD", side: "buy", quantity: "3" })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 422)).toHaveLength(5);
    expect((await usd(pid)).balance).toBe("99.775");
  });
});

test("equity = cash put in + net PnL, exactly, through buys, sells, a flip and fees", async () => {
  const pid = await portfolio({
    name: "identity",
    margin: true,
    cash: [{ currency: "USD", amount: "50000" }],
  });
  await call("POST", `/api/portfolios/${pid}/cash/deposits`, { currency: "USD", amount: "1234.56" });
  const steps: [string, string, string, string][] = [
    ["buy", "0.3", "64000.01", "64000.11"],
    ["buy", "0.2", "64100.5", "64100.6"],
    ["sell", "0.7", "63950.33", "63950.4"],
    ["buy", "0.05", "63000", "63000.07"],
  ];
  for (const [side, quantity, bid, ask] of steps) {
    await top(1, bid, ask, "10");
    expect((await order(pid, { symbol: "BTC-USD", side, quantity })).body.status).toBe("filled");
  }
  await insertTrades(api.db.sql, [
    { time: new Date(), exchange: 2, instrumentId: 1, tradeId: 99, price: "63500.01", size: "0.1" },
  ]);
  const pnl = (await call("GET", `/api/portfolios/${pid}/pnl`)).body;
  const t = pnl.totals.find((x: { quote: string }) => x.quote === "USD");
  expect(pnl.positions[0]).toMatchObject({ quantity: "-0.15", markPrice: "63500.01" });
  // Exact decimal check in BigInt units of 1e-12: equity - 51234.56 == netPnl.
  const units = (s: string) => {
    const [i, f = ""] = s.replace("-", "").split(".");
    const v = BigInt(i! + f.padEnd(12, "0"));
    return s.startsWith("-") ? -v : v;
  };
  expect(units(t.equity) - units("51234.56")).toBe(units(t.netPnl));
  expect(units(t.fees)).toBeGreaterThan(0n);
  expect(t.cash).toBe((await usd(pid)).balance);
});

test("the typed Eden client reaches the cash routes (what the dashboard uses)", async () => {
  // The portfolio routes alone under /api, so this checks their own types (App adds the other modules).
  const app = new Elysia()
    .use(errorHandler(api.deps.log, api.deps.metrics))
    .use(new Elysia({ prefix: "/api" }).use(portfoliosController(api.deps, api.deps.config)));
  const client = treaty(app);
  const headers = { authorization: `Bearer ${token}` };
  const created = await client.api.portfolios.post(
    { name: "eden cash", cash: [{ currency: "USD", amount: "10" }] },
    { headers },
  );
  if (!created.data) throw new Error(`create failed: ${JSON.stringify(created.error)}`);
  expect(created.data.margin).toBe(false);
  const portfolio = client.api.portfolios({ portfolioId: created.data.id });
  const dep = await portfolio.cash.deposits.post({ currency: "USD", amount: "5.5" }, { headers });
  expect(dep.data?.balance.balance).toBe("15.5");
  const wd = await portfolio.cash.withdrawals.post({ currency: "USD", amount: "100" }, { headers });
  expect(wd.status).toBe(422);
  const balances = await portfolio.cash.get({ headers });
  expect(balances.data?.map((b) => [b.currency, b.available])).toEqual([["USD", "15.5"]]);
  const ledger = await portfolio.cash.ledger.get({ query: { limit: 10 }, headers });
  expect(ledger.data?.items.map((e) => e.kind)).toEqual(["deposit", "initial"]);
});
