// Hostile portfolio inputs: every one a clear 422 (never a 500), and nothing stored.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { newUser, startTestApi, type TestApi } from "../test/harness.ts";
import { insertTop } from "../test/seed.ts";

let api: TestApi;
let token: string;
beforeAll(async () => {
  api = await startTestApi();
  token = (await newUser(api, "hostile")).token;
});
afterAll(() => api.close());

const NAME = "name must be 1 to 100 characters, not blank, with no control characters";
const DESCRIPTION =
  "description must be at most 1000 characters, with no control characters but tab and newline";

test.each([
  [{ name: "a\u0000b" }, NAME],
  [{ name: "\u0000" }, NAME],
  [{ name: "tab\there" }, NAME],
  [{ name: "bell\u0007" }, NAME],
  [{ name: "del\u007f" }, NAME],
  [{ name: "ok", description: "nul\u0000inside" }, DESCRIPTION],
  [{ name: "ok", description: "esc\u001b[31m" }, DESCRIPTION],
])("create %p -> 422", async (body, message) => {
  const res = await api.call("POST", "/api/portfolios", { token, body });
  expect(res.status).toBe(422);
  expect(res.body).toEqual({ error: "validation", message });
  expect((await api.call("GET", "/api/portfolios", { token })).body).toEqual([]);
});

test("rename or describe with NUL -> 422, the portfolio unchanged", async () => {
  const created = await api.call("POST", "/api/portfolios", { token, body: { name: "keep" } });
  expect(created.status).toBe(201);
  const path = `/api/portfolios/${created.body.id}`;
  const rename = await api.call("PATCH", path, { token, body: { name: "x\u0000" } });
  expect(rename.status).toBe(422);
  expect(rename.body.message).toBe(NAME);
  const describe = await api.call("PATCH", path, { token, body: { description: "\u0000" } });
  expect(describe.status).toBe(422);
  expect(describe.body.message).toBe(DESCRIPTION);
  expect((await api.call("GET", path, { token })).body).toMatchObject({ name: "keep", description: "" });
  await api.call("DELETE", path, { token });
});

test("tabs and newlines stay allowed in a description, and leading spaces in a name are trimmed", async () => {
  const res = await api.call("POST", "/api/portfolios", {
    token,
    body: { name: "  spaced ", description: "line one\nline\ttwo\r\n" },
  });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ name: "spaced", description: "line one\nline\ttwo\r\n" });
  await api.call("DELETE", `/api/portfolios/${res.body.id}`, { token });
});

test("extreme but well-formed numbers never give a 5xx", async () => {
  await insertTop(api.db.sql, {
    exchange: 2,
    instrumentId: 1,
    bid: "999999999999999999.99",
    ask: "999999999999999999.99",
    bidSize: "999999999999999999.99999999",
    askSize: "999999999999999999.99999999",
  });
  const huge = "999999999999999999.99999999";
  for (const margin of [false, true]) {
    const p = await api.call("POST", "/api/portfolios", {
      token,
      body: {
        name: `huge-${margin}`,
        margin,
        cash: [{ currency: "USD", amount: "999999999999999999.999999999999999999" }],
      },
    });
    expect(p.status).toBe(201);
    for (const body of [
      { type: "market", side: "buy", quantity: huge },
      { type: "market", side: "sell", quantity: huge },
      { type: "limit", side: "buy", quantity: huge, limitPrice: "999999999999999999.99" },
      { type: "limit", side: "sell", quantity: "0.00000001", limitPrice: "0.01" },
    ]) {
      const res = await api.call("POST", `/api/portfolios/${p.body.id}/orders`, {
        token,
        body: { symbol: "BTC-USD", exchange: "coinbase", ...body },
      });
      expect({ margin, body, no5xx: res.status < 500 }).toEqual({ margin, body, no5xx: true });
    }
    const pnl = await api.call("GET", `/api/portfolios/${p.body.id}/pnl`, { token });
    expect(pnl.status).toBe(200);
    const cash = await api.call("GET", `/api/portfolios/${p.body.id}/cash`, { token });
    expect(cash.status).toBe(200);
  }
});

test.each([
  [{}, "an empty patch"],
  [{ colour: "red" }, "only an unknown field"],
])("PATCH %p (%s) -> 200, the portfolio unchanged (unknown fields are ignored)", async (body) => {
  const created = await api.call("POST", "/api/portfolios", {
    token,
    body: { name: `patch-${JSON.stringify(body)}` },
  });
  const res = await api.call("PATCH", `/api/portfolios/${created.body.id}`, { token, body });
  expect(res.status).toBe(200);
  expect(res.body).toEqual(created.body);
  await api.call("DELETE", `/api/portfolios/${created.body.id}`, { token });
  const gone = await api.call("PATCH", `/api/portfolios/${created.body.id}`, { token, body });
  expect(gone.status).toBe(404);
});

test("an order for an unknown symbol is a 422 field error, not a 404 (the portfolio exists)", async () => {
  const created = await api.call("POST", "/api/portfolios", { token, body: { name: "orders" } });
  const res = await api.call("POST", `/api/portfolios/${created.body.id}/orders`, {
    token,
    body: { symbol: "NOPE-USD", exchange: "kraken", side: "buy", type: "market", quantity: "1" },
  });
  expect(res.status).toBe(422);
  expect(res.body.message).toContain("unknown instrument NOPE-USD");
});

test("PATCH with an empty body is answered, not refused as bad JSON", async () => {
  const created = await api.call("POST", "/api/portfolios", { token, body: { name: "empty-patch" } });
  const res = await api.app.handle(
    new Request(`http://localhost/api/portfolios/${created.body.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}` },
    }),
  );
  expect(res.status).toBe(200);
});
