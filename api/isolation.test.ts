// User B can never read or change user A's data, through any route. The route table is checked against
// the OpenAPI document, so a new portfolio route without a case here fails this test.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newUser, startTestApi, type TestApi } from "./test/harness.ts";
import { insertTop, insertTrades } from "./test/seed.ts";

let api: TestApi;
let a: Awaited<ReturnType<typeof newUser>>;
let b: Awaited<ReturnType<typeof newUser>>;
let aPortfolio: string;
let bPortfolio: string;
let aFilled: string;
let aOpen: string;

beforeAll(async () => {
  api = await startTestApi();
  a = await newUser(api, "alice");
  b = await newUser(api, "bob");
  aPortfolio = (
    await api.call("POST", "/api/portfolios", {
      token: a.token,
      body: { name: "alice main", cash: [{ currency: "USD", amount: "1000" }] },
    })
  ).body.id;
  bPortfolio = (await api.call("POST", "/api/portfolios", { token: b.token, body: { name: "bob main" } }))
    .body.id;
  await insertTop(api.db.sql, { exchange: 2, instrumentId: 1, bid: "100.00", ask: "100.10" });
  await insertTrades(api.db.sql, [
    { time: new Date(), exchange: 2, instrumentId: 1, tradeId: 1, price: "101", size: "1" },
  ]);
  const order = (body: Record<string, unknown>) =>
    api.call("POST", `/api/portfolios/${aPortfolio}/orders`, {
      token: a.token,
      body: { symbol: "BTC-USD", exchange: "coinbase", side: "buy", quantity: "1", ...body },
    });
  aFilled = (await order({ type: "market" })).body.id;
  aOpen = (await order({ type: "limit", limitPrice: "50" })).body.id;
});
afterAll(() => api.close());

/** A's whole state as A sees it; compared before and after B's attempts. */
async function aliceState() {
  const get = (path: string) => api.call("GET", path, { token: a.token }).then((r) => r.body);
  return {
    portfolios: await get("/api/portfolios"),
    orders: await get(`/api/portfolios/${aPortfolio}/orders`),
    fills: await get(`/api/portfolios/${aPortfolio}/fills`),
    positions: await get(`/api/portfolios/${aPortfolio}/positions`),
    cash: await get(`/api/portfolios/${aPortfolio}/cash`),
    ledger: await get(`/api/portfolios/${aPortfolio}/cash/ledger`),
  };
}

const order = { symbol: "BTC-USD", exchange: "coinbase", side: "sell", type: "market", quantity: "1" };
const money = { currency: "USD", amount: "10" };
// [method, OpenAPI path, concrete path, body]: every route that takes a portfolio (and order) id.
const cases = (): [string, string, string, unknown][] => [
  ["GET", "/api/portfolios/{portfolioId}", `/api/portfolios/${aPortfolio}`, undefined],
  ["PATCH", "/api/portfolios/{portfolioId}", `/api/portfolios/${aPortfolio}`, { name: "pwned" }],
  ["DELETE", "/api/portfolios/{portfolioId}", `/api/portfolios/${aPortfolio}`, undefined],
  ["POST", "/api/portfolios/{portfolioId}/orders", `/api/portfolios/${aPortfolio}/orders`, order],
  ["GET", "/api/portfolios/{portfolioId}/orders", `/api/portfolios/${aPortfolio}/orders`, undefined],
  [
    "GET",
    "/api/portfolios/{portfolioId}/orders/{orderId}",
    `/api/portfolios/${aPortfolio}/orders/${aFilled}`,
    undefined,
  ],
  [
    "DELETE",
    "/api/portfolios/{portfolioId}/orders/{orderId}",
    `/api/portfolios/${aPortfolio}/orders/${aOpen}`,
    undefined,
  ],
  ["GET", "/api/portfolios/{portfolioId}/fills", `/api/portfolios/${aPortfolio}/fills`, undefined],
  ["GET", "/api/portfolios/{portfolioId}/positions", `/api/portfolios/${aPortfolio}/positions`, undefined],
  ["GET", "/api/portfolios/{portfolioId}/pnl", `/api/portfolios/${aPortfolio}/pnl`, undefined],
  ["GET", "/api/portfolios/{portfolioId}/cash", `/api/portfolios/${aPortfolio}/cash`, undefined],
  [
    "GET",
    "/api/portfolios/{portfolioId}/cash/ledger",
    `/api/portfolios/${aPortfolio}/cash/ledger`,
    undefined,
  ],
  [
    "POST",
    "/api/portfolios/{portfolioId}/cash/deposits",
    `/api/portfolios/${aPortfolio}/cash/deposits`,
    money,
  ],
  [
    "POST",
    "/api/portfolios/{portfolioId}/cash/withdrawals",
    `/api/portfolios/${aPortfolio}/cash/withdrawals`,
    money,
  ],
];

describe("cross-user isolation", () => {
  test("the case table covers every portfolio route in the OpenAPI document", async () => {
    const spec = (await api.call("GET", "/openapi/json")).body;
    const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.includes("{portfolioId}"))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(
      cases()
        .map(([m, p]) => `${m} ${p}`)
        .sort(),
    ).toEqual(documented);
  });

  test("every route answers 404 to B for A's portfolio and orders, and A's data is untouched", async () => {
    const before = await aliceState();
    for (const [method, , path, body] of cases()) {
      const res = await api.call(method, path, { token: b.token, body });
      expect({ route: `${method} ${path}`, status: res.status }).toEqual({
        route: `${method} ${path}`,
        status: 404,
      });
      expect(res.text).not.toContain(a.email);
    }
    expect(await aliceState()).toEqual(before);
    expect((before.orders as { items: { status: string }[] }).items.map((o) => o.status).sort()).toEqual([
      "filled",
      "open",
    ]);
  });

  test("A's order ids do not resolve under B's own portfolio either", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await api.call(method, `/api/portfolios/${bPortfolio}/orders/${aOpen}`, { token: b.token });
      expect(res.status).toBe(404);
    }
    const fills = await api.call("GET", `/api/portfolios/${bPortfolio}/fills?orderId=${aFilled}`, {
      token: b.token,
    });
    expect(fills.body.items).toEqual([]);
  });

  test("lists and the account endpoint show only the caller's own data", async () => {
    const list = await api.call("GET", "/api/portfolios", { token: b.token });
    expect(list.body.map((p: { id: string }) => p.id)).toEqual([bPortfolio]);
    expect((await api.call("GET", "/api/auth/me", { token: b.token })).body.email).toBe(b.email);
    for (const path of [`/api/portfolios/${bPortfolio}/orders`, `/api/portfolios/${bPortfolio}/fills`]) {
      expect((await api.call("GET", path, { token: b.token })).body.items).toEqual([]);
    }
    expect(
      (await api.call("GET", `/api/portfolios/${bPortfolio}/positions`, { token: b.token })).body,
    ).toEqual([]);
  });

  test("without a token every portfolio route is 401", async () => {
    for (const [method, , path, body] of cases()) {
      expect((await api.call(method, path, { body })).status).toBe(401);
    }
    expect((await api.call("GET", "/api/portfolios")).status).toBe(401);
    expect((await api.call("POST", "/api/portfolios", { body: { name: "x" } })).status).toBe(401);
  });
});
