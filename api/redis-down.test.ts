// With Redis unreachable the API still answers: market data and portfolios work (no cache), logins and
// refreshes are refused with 503 (the rate limiter fails closed), and /health says so. Nothing hangs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signAccessToken } from "../lib/jwt.ts";
import { loadApiConfig } from "./config.ts";
import { startTestApi, TEST_JWT_SECRET, type TestApi } from "./test/harness.ts";
import { insertTop, insertTrades } from "./test/seed.ts";

let api: TestApi;
beforeAll(async () => {
  // A port nobody listens on: bind one, note it, close it.
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  api = await startTestApi({ REDIS_URL: `redis://127.0.0.1:${port}` });
});
afterAll(() => api.close());

async function timed(method: string, path: string, opts?: Parameters<TestApi["call"]>[2]) {
  const start = performance.now();
  const res = await api.call(method, path, opts);
  expect(performance.now() - start).toBeLessThan(1500); // fails fast, no queueing behind a dead connection
  return res;
}

describe("Redis down", () => {
  test("/health reports degraded with the reason, still 200", async () => {
    const res = await timed("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "degraded", postgres: "up", redis: "down" });
    expect(res.body.notes.join(" ")).toContain("logins and token refresh refused");
  });

  test("market data is served straight from Postgres", async () => {
    await insertTrades(api.db.sql, [
      { time: new Date(), exchange: 1, instrumentId: 1, tradeId: 7, price: "64000.5", size: "0.1" },
    ]);
    const res = await timed("GET", "/api/market/trades?symbol=BTC-USD&exchange=kraken");
    expect(res.status).toBe(200);
    expect(res.body.items[0].price).toBe("64000.5");
    const candles = await timed(
      "GET",
      "/api/market/candles?symbol=BTC-USD&exchange=kraken&interval=1m&limit=5",
    );
    expect(candles.body.candles).toHaveLength(1);
    expect(api.deps.metrics.registry.render()).toMatch(/tapewire_api_cache_total\{result="bypass"\} [1-9]/);
  });

  test("register, login and refresh fail closed with 503 and a clear message", async () => {
    const creds = { email: "someone@example.com", password: "long password" };
    const reg = await timed("POST", "/api/auth/register", { body: creds });
    expect(reg.status).toBe(503);
    expect(reg.body.message).toBe(
      "login is unavailable: the rate limiter (Redis) is down; try again shortly",
    );
    const login = await timed("POST", "/api/auth/login", { body: creds });
    expect(login.status).toBe(503);
    const refresh = await timed("POST", "/api/auth/refresh", {
      body: { refreshToken: `rt1.${"A".repeat(43)}` },
    });
    expect(refresh.status).toBe(503);
  });

  test("a valid access token still works: portfolios and paper orders need no Redis", async () => {
    const [user] = await api.db
      .sql`INSERT INTO users (email, password_hash) VALUES ('offline@example.com', 'x') RETURNING id`;
    const token = signAccessToken({ sub: user!.id }, { JWT_SECRET: TEST_JWT_SECRET });
    const portfolio = await timed("POST", "/api/portfolios", { token, body: { name: "offline" } });
    expect(portfolio.status).toBe(201);
    await insertTop(api.db.sql, { exchange: 1, instrumentId: 1, bid: "64000.1", ask: "64000.2" });
    const order = await timed("POST", `/api/portfolios/${portfolio.body.id}/orders`, {
      token,
      body: { symbol: "BTC-USD", exchange: "kraken", side: "buy", type: "market", quantity: "0.01" },
    });
    expect(order.body.status).toBe("filled");
    const pnl = await timed("GET", `/api/portfolios/${portfolio.body.id}/pnl`, { token });
    expect(pnl.body.totals[0].unrealizedPnl).toBe("0.003"); // 0.01 * 64000.5 - 0.01 * 64000.2
  });

  test("the Redis failures are counted and logged at a limited rate", () => {
    expect(api.logs.some((l) => l.includes("redis"))).toBe(true);
    expect(api.logs.length).toBeLessThan(50);
  });
});

describe("REDIS_URL=memory (a development machine without Redis)", () => {
  let mem: TestApi;
  beforeAll(async () => {
    mem = await startTestApi({ REDIS_URL: "memory" }, api.db);
  });
  afterAll(() => mem.close());

  test("register, login, refresh and reuse detection work in-process; /health says memory", async () => {
    const creds = { email: "laptop@example.com", password: "only bun here" };
    expect((await mem.call("POST", "/api/auth/register", { body: creds })).status).toBe(201);
    const login = await mem.call("POST", "/api/auth/login", { body: creds });
    expect(login.status).toBe(200);
    const next = await mem.call("POST", "/api/auth/refresh", {
      body: { refreshToken: login.body.refreshToken },
    });
    expect(next.status).toBe(200);
    expect(
      (await mem.call("POST", "/api/auth/refresh", { body: { refreshToken: login.body.refreshToken } }))
        .status,
    ).toBe(401);
    expect(
      (await mem.call("POST", "/api/auth/refresh", { body: { refreshToken: next.body.refreshToken } }))
        .status,
    ).toBe(401);
    const health = await mem.call("GET", "/health");
    expect(health.body).toMatchObject({ status: "ok", redis: "memory" });
  });

  test("production refuses it", () => {
    expect(() =>
      loadApiConfig({ REDIS_URL: "memory", NODE_ENV: "production", JWT_SECRET: TEST_JWT_SECRET }),
    ).toThrow('REDIS_URL="memory": expected a real Redis when NODE_ENV=production');
  });
});
