// The app as a whole: the OpenAPI document and docs page, the typed Eden client over the done-when flow,
// /health and /metrics, the built UI at /, and JSON errors for unknown routes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { treaty } from "@elysiajs/eden";
import { Exchange, FLAG_ASK, FLAG_BEGIN, FLAG_END, FLAG_SNAPSHOT } from "../schema/frame.ts";
import { startTestApi, type TestApi, waitFor } from "./test/harness.ts";
import { insertTop, insertTrades } from "./test/seed.ts";

const uiDir = mkdtempSync(join(tmpdir(), "tw-ui-"));
mkdirSync(join(uiDir, "assets"));
writeFileSync(join(uiDir, "index.html"), "<!doctype html><title>tapewire</title>");
writeFileSync(join(uiDir, "assets", "app.js"), "console.log('ui')");

const METRICS_TOKEN = "app-test-metrics-token";
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ API_UI_DIR: uiDir, API_METRICS_TOKEN: METRICS_TOKEN });
});
afterAll(() => api.close());

type Operation = {
  summary?: string;
  requestBody?: { content: Record<string, { schema: { examples?: unknown[] } }> };
  responses?: Record<string, { content?: Record<string, { schema: { examples?: unknown[] } }> }>;
  security?: unknown[];
};

describe("OpenAPI", () => {
  test("the docs page and an OpenAPI 3 document with schemas and examples for every API route", async () => {
    const page = await api.call("GET", "/openapi");
    expect(page.status).toBe(200);
    expect(page.text).toContain('"url":"openapi/json"');
    const spec = (await api.call("GET", "/openapi/json")).body;
    expect(spec.openapi).toStartWith("3.");
    expect(spec.components.securitySchemes.bearerAuth).toEqual({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
    const operations = Object.entries(spec.paths as Record<string, Record<string, Operation>>).flatMap(
      ([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, path, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(22);
    for (const { route, path, op } of operations) {
      expect({ route, summary: typeof op.summary }).toEqual({ route, summary: "string" });
      const ok = Object.entries(op.responses ?? {}).filter(([status]) => status.startsWith("2"));
      expect({ route, documented2xx: ok.length > 0 }).toEqual({ route, documented2xx: true });
      for (const [status, response] of ok) {
        if (status === "204") continue;
        const schema = response.content?.["application/json"]?.schema;
        expect({ route, status, examples: (schema?.examples?.length ?? 0) > 0 }).toEqual({
          route,
          status,
          examples: true,
        });
      }
      if (op.requestBody) {
        expect(Object.keys(op.requestBody.content)).toEqual(["application/json"]);
        expect({
          route,
          bodyExamples: (op.requestBody.content["application/json"]!.schema.examples?.length ?? 0) > 0,
        }).toEqual({
          route,
          bodyExamples: true,
        });
      }
      if (path.startsWith("/api/portfolios") || path === "/api/auth/me")
        expect({ route, security: op.security }).toEqual({ route, security: [{ bearerAuth: [] }] });
      if (path.startsWith("/api/"))
        expect({ route, has422: "422" in (op.responses ?? {}) }).toEqual({ route, has422: true });
    }
  });
});

describe("typed Eden client", () => {
  test("the whole flow through treaty<App>", async () => {
    const client = treaty(api.app);
    const email = "eden@example.com";
    const password = "typed all the way";
    const reg = await client.api.auth.register.post(
      { email, password },
      { headers: { "x-forwarded-for": "198.51.100.7" } },
    );
    expect(reg.status).toBe(201);
    const login = await client.api.auth.login.post(
      { email, password },
      { headers: { "x-forwarded-for": "198.51.100.7" } },
    );
    if (!login.data) throw new Error(`login failed: ${JSON.stringify(login.error)}`);
    const headers = { authorization: `Bearer ${login.data.accessToken}` };
    const created = await client.api.portfolios.post(
      { name: "eden", cash: [{ currency: "USD", amount: "10000" }] },
      { headers },
    );
    if (!created.data) throw new Error("create failed");
    const portfolio = client.api.portfolios({ portfolioId: created.data.id });
    await insertTop(api.db.sql, {
      exchange: 1,
      instrumentId: 2,
      bid: "3000.00",
      ask: "3000.50",
      bidSize: "5",
      askSize: "5",
    });
    await insertTrades(api.db.sql, [
      { time: new Date(), exchange: 1, instrumentId: 2, tradeId: 9, price: "3010.50", size: "1" },
    ]);
    const order = await portfolio.orders.post(
      { symbol: "ETH-USD", exchange: "kraken", side: "buy", type: "market", quantity: "2" },
      { headers },
    );
    expect(order.data?.status).toBe("filled");
    const pnl = await portfolio.pnl.get({ headers });
    expect(pnl.data?.totals).toEqual([
      {
        quote: "USD",
        realizedPnl: "0",
        unrealizedPnl: "20",
        fees: "0",
        netPnl: "20",
        unmarkedPositions: 0,
        cash: "3999", // 10000 - 2 * 3000.50
        equity: "10020", // cash + 2 * 3010.50 marked at the last trade
      },
    ]);
    const trades = await client.api.market.trades.get({ query: { symbol: "ETH-USD", exchange: "kraken" } });
    expect(trades.data?.items[0]?.price).toBe("3010.50");
  });
});

describe("operations and the UI", () => {
  test("/health and /metrics", async () => {
    const health = await api.call("GET", "/health");
    expect(health.body).toMatchObject({ status: "ok", postgres: "up", redis: "up", notes: [] });
    // Request metrics are recorded after the response is sent: poll until /health's shows up. /metrics
    // answers loopback only (app.handle has no socket) or the API_METRICS_TOKEN bearer.
    const token = METRICS_TOKEN;
    const line = 'tapewire_api_requests_total{route="/health",status="2xx"} 1';
    await waitFor(
      async () => (await api.call("GET", "/metrics", { token })).text.includes(line),
      "health request metric",
    );
    const metrics = await api.call("GET", "/metrics", { token });
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(metrics.text).toContain("tapewire_api_request_seconds_count");
  });

  test("serves the built UI at / with an SPA fallback, never outside its folder or for /api", async () => {
    const index = await api.call("GET", "/");
    expect(index.text).toContain("<title>tapewire</title>");
    expect((await api.call("GET", "/assets/app.js")).text).toBe("console.log('ui')");
    expect((await api.call("GET", "/portfolios/123")).text).toContain("<title>tapewire</title>");
    const traversal = await api.call("GET", "/..%2f..%2f..%2fetc%2fpasswd");
    expect(traversal.text).toContain("<title>tapewire</title>");
    const unknownApi = await api.call("GET", "/api/nothing-here");
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.body).toEqual({ error: "not_found", message: "no route GET /api/nothing-here" });
  });

  test("form-encoded bodies are refused with a JSON 400", async () => {
    const res = await api.app.handle(
      new Request("http://localhost/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "email=a%40b.co&password=xxxxxxxxxxxx",
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "bad_request", message: "request body is not valid JSON" });
  });
});

describe("book history", () => {
  test("GET /api/market/book-history rebuilds a stored book through the app", async () => {
    const t0 = 1_764_630_000_000_000_000n;
    for (const [flags, price, size, seq] of [
      [FLAG_SNAPSHOT | FLAG_BEGIN, "100.5", "1", 1],
      [FLAG_SNAPSHOT | FLAG_ASK | FLAG_END, "101", "2", 2],
    ] as const) {
      await api.db
        .sql`INSERT INTO book_changes (time, exchange, instrument_id, flags, price, size, update_id, seq, recv_ns)
                       VALUES (now(), ${Exchange.Coinbase}, 1, ${flags}, ${price}, ${size}, 1, ${seq}, ${t0.toString()})`;
    }
    const book = await api.call(
      "GET",
      `/api/market/book-history?symbol=BTC-USD&exchange=coinbase&at=${t0 + 1n}`,
    );
    expect(book).toMatchObject({ status: 200, body: { bids: [["100.5", "1"]], asks: [["101", "2"]] } });
    const none = await api.call("GET", "/api/market/book-history?symbol=ETH-USD&exchange=coinbase&at=1");
    expect(none).toMatchObject({ status: 404, body: { error: "not_found" } });
  });
});
