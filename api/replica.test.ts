// The API's reads on a streaming replica (DATABASE_READ_URL), against a real primary + pg_basebackup replica
// started here (api/db/replica-fixture.ts; never the system cluster). The bridge's writes are stood in for by
// inserting market rows on the primary as the bridge does (api/test/seed.ts). The replica's replay is paused
// to make it lag on purpose: what a route returns then tells which server answered it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { createLogger } from "../lib/log.ts";
import { waitFor } from "../lib/testing.ts";
import { migrate } from "../schema/db/migrate.ts";
import { type ReplicaPair, startReplicaPair } from "./db/replica-fixture.ts";
import { newUser, startTestApi, type TestApi, type TestDatabase } from "./test/harness.ts";
import { insertTop, insertTrades } from "./test/seed.ts";

const KRAKEN = 1;
const BTC = 1; // BTC-USD in the built-in registry (checked below through /api/market/instruments)

let pair: ReplicaPair;
let primary: postgres.Sql;
let replica: postgres.Sql;
/** DATABASE_READ_MAX_LAG_MS = 1 h: stays on the replica however far behind it is (while it answers). */
let onReplica: TestApi;
/** DATABASE_READ_MAX_LAG_MS = 300 ms: leaves a lagging replica. */
let bounded: TestApi;
let tradeId = 1_000_000;

beforeAll(async () => {
  pair = await startReplicaPair();
  await migrate(pair.primaryUrl, { log: createLogger({}, () => {}), env: {} });
  primary = postgres(pair.primaryUrl, { max: 2, onnotice: () => {}, connection: { TimeZone: "UTC" } });
  replica = postgres(pair.replicaUrl, { max: 2, onnotice: () => {}, connection: { TimeZone: "UTC" } });
  await waitFor(async () => (await replica`SELECT count(*)::int AS n FROM instruments`)[0]!.n > 0, {
    timeoutMs: 30_000,
    intervalMs: 50,
    what: "the migration on the replica",
  });
  const shared: TestDatabase = { url: pair.primaryUrl, name: "tapewire", sql: primary, drop: async () => {} };
  const env = {
    API_CACHE_TTL_MS: "0",
    DATABASE_READ_URL: pair.replicaUrl,
    ARCHIVE_DIR: join(pair.dir, "archive"),
  };
  onReplica = await startTestApi({ ...env, DATABASE_READ_MAX_LAG_MS: "1h" }, shared);
  bounded = await startTestApi({ ...env, DATABASE_READ_MAX_LAG_MS: "300ms" }, shared);
  onReplica.deps.reads!.start();
  bounded.deps.reads!.start();
}, 120_000);

afterAll(async () => {
  await pair?.resumeReplay().catch(() => {});
  await onReplica?.close();
  await bounded?.close();
  await replica?.end({ timeout: 2 });
  await primary?.end({ timeout: 2 });
  await pair?.stop();
}, 60_000);

const trade = (id: number, price = "50000") =>
  insertTrades(primary, [
    { time: new Date(), exchange: KRAKEN, instrumentId: BTC, tradeId: id, price, size: "0.01" },
  ]);
const tradeIds = async (api: TestApi): Promise<string[]> => {
  const res = await api.call("GET", "/api/market/trades?symbol=BTC-USD&exchange=kraken&limit=1000");
  expect(res.status).toBe(200);
  return res.body.items.map((t: { tradeId: string }) => t.tradeId);
};
const target = (api: TestApi) => api.deps.reads!.status().target;
/** Replay resumed and both routers back on the replica: each test starts from there. */
async function caughtUp(): Promise<void> {
  await pair.resumeReplay();
  for (const api of [onReplica, bounded]) {
    await waitFor(() => target(api) === "replica", { timeoutMs: 30_000, what: "reads back on the replica" });
    // Back within half the bound is enough to read there again; start from fully replayed.
    await waitFor(
      async () => {
        await api.deps.reads!.check();
        return api.deps.reads!.status().lagMs === 0;
      },
      { timeoutMs: 30_000, what: "the replica fully replayed" },
    );
  }
}

test("market reads come from the replica: a trade the bridge writes shows once the replica replays it", async () => {
  expect((await onReplica.call("GET", "/api/market/instruments")).body[0]).toMatchObject({
    id: BTC,
    symbol: "BTC-USD",
  });
  await caughtUp();
  const before = ++tradeId;
  await trade(before);
  await waitFor(async () => (await tradeIds(onReplica)).includes(String(before)), "the trade on the replica");
  await pair.pauseReplay();
  const frozen = ++tradeId;
  await trade(frozen);
  // The primary has it; the replica (replay paused) does not, and the API answers from the replica.
  expect((await primary`SELECT 1 FROM trades WHERE trade_id = ${frozen}`).length).toBe(1);
  await waitFor(async () => {
    await onReplica.deps.reads!.check();
    return onReplica.deps.reads!.status().lagMs > 200;
  }, "the replica's lag to show");
  expect(target(onReplica)).toBe("replica");
  const ids = await tradeIds(onReplica);
  expect(ids).toContain(String(before));
  expect(ids).not.toContain(String(frozen));
  // Candles come from the same place.
  const from = new Date(Date.now() - 3600_000).toISOString();
  const candles = await onReplica.call(
    "GET",
    `/api/market/candles?symbol=BTC-USD&exchange=kraken&interval=1h&from=${from}`,
  );
  expect(candles.status).toBe(200);
  // Analytics (DuckDB over archive + database rows, read in a repeatable-read transaction) too.
  const analyticsRows = async () => {
    const to = new Date(Date.now() + 60_000).toISOString();
    const r = await onReplica.call(
      "GET",
      `/api/analytics/ohlcv?symbol=BTC-USD&from=${from}&to=${to}&interval=1h`,
    );
    expect(r.status).toBe(200);
    return r.body.sources.databaseRows as number;
  };
  const onPrimary = (await primary`SELECT count(*)::int AS n FROM trades WHERE time > ${from}`)[0]!
    .n as number;
  expect(await analyticsRows()).toBe(onPrimary - 1);
  await pair.resumeReplay();
  await waitFor(async () => (await tradeIds(onReplica)).includes(String(frozen)), {
    timeoutMs: 15_000,
    what: "the frozen trade once replay resumes",
  });
  expect(await analyticsRows()).toBe(onPrimary);
  const metrics = await onReplica.call("GET", "/metrics", { headers: { "x-forwarded-for": "127.0.0.1" } });
  expect(metrics.text).toContain("tapewire_api_db_reads_on_replica 1");
  expect(metrics.text).toMatch(/tapewire_api_db_replica_lag_seconds \d/);
}, 60_000);

test("analytics on the replica: the live rows' COPY runs over a connection of our own there (kept between requests), in the request's snapshot, request after request", async () => {
  await caughtUp();
  const from = new Date(Date.now() - 3600_000).toISOString();
  for (let k = 0; k < 3; k++) await trade(++tradeId, `5000${k}.5`);
  const last = tradeId;
  await waitFor(async () => (await tradeIds(onReplica)).includes(String(last)), "the trades on the replica");
  await pair.pauseReplay();
  await trade(++tradeId);
  const onStandby = (await replica`SELECT count(*)::int AS n FROM trades WHERE time > ${from}`)[0]!
    .n as number;
  const onPrimary = (await primary`SELECT count(*)::int AS n FROM trades WHERE time > ${from}`)[0]!
    .n as number;
  expect(onPrimary).toBe(onStandby + 1);
  const to = new Date(Date.now() + 60_000).toISOString();
  const q = `symbol=BTC-USD&from=${from}&to=${to}&interval=1h`;
  // Several requests in a row: postgres.js's COPY stream once stalled the pooled connection under the next one.
  let first: unknown;
  for (let i = 0; i < 6; i++) {
    const r = await onReplica.call("GET", `/api/analytics/${i % 2 ? "volatility" : "ohlcv"}?${q}`);
    expect(r.status).toBe(200);
    // The replica's rows (replay paused: the primary's newest trade is not there), so the COPY read the replica.
    expect(r.body.sources.databaseRows).toBe(onStandby);
    if (i === 0) first = r.body;
    else if (i % 2 === 0) expect(r.body).toEqual(first);
  }
  expect(target(onReplica)).toBe("replica");
  // Our own COPY connections on the replica (archiver/pg-copy.ts PgCopyPool): there, kept idle after the
  // requests, at most the pool's two (not one a request).
  const [kept] =
    await replica`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tapewire-api-copy'`;
  expect(kept?.n).toBeGreaterThanOrEqual(1);
  expect(kept?.n).toBeLessThanOrEqual(2);
  await pair.resumeReplay();
}, 60_000);

describe("read-your-writes routes use the primary while the replica is frozen", () => {
  test("account, login, session, portfolio, order, fills, positions, cash, refresh, logout", async () => {
    await caughtUp();
    await pair.pauseReplay();
    const api = onReplica;
    // Register + log in right after (the login reads the user just written).
    const user = await newUser(api, "replica");
    const { token } = user;
    const call = (method: string, path: string, body?: unknown) => api.call(method, path, { token, body });
    expect((await call("GET", "/api/auth/me")).body).toMatchObject({ id: user.id, email: user.email });
    const created = await call("POST", "/api/portfolios", { name: "on the primary" });
    expect(created.status).toBe(201);
    const pid = created.body.id as string;
    expect((await call("GET", `/api/portfolios/${pid}`)).body.name).toBe("on the primary");
    expect((await call("GET", "/api/portfolios")).body.map((p: { id: string }) => p.id)).toEqual([pid]);
    expect((await call("PATCH", `/api/portfolios/${pid}`, { name: "renamed" })).status).toBe(200);
    expect((await call("GET", `/api/portfolios/${pid}`)).body.name).toBe("renamed");
    // A quote the bridge just wrote (only the primary has it): a market order fills against it.
    await insertTop(primary, {
      exchange: KRAKEN,
      instrumentId: BTC,
      bid: "49990",
      ask: "50010",
      bidSize: "100",
      askSize: "100",
    });
    const order = await call("POST", `/api/portfolios/${pid}/orders`, {
      symbol: "BTC-USD",
      exchange: "kraken",
      side: "buy",
      type: "market",
      quantity: "0.5",
    });
    expect(order.status).toBe(201);
    expect(order.body.status).toBe("filled");
    expect((await call("GET", `/api/portfolios/${pid}/orders/${order.body.id}`)).body.status).toBe("filled");
    const orders = (await call("GET", `/api/portfolios/${pid}/orders`)).body.items;
    expect(orders.map((o: { id: string }) => o.id)).toEqual([order.body.id]);
    const fills = (await call("GET", `/api/portfolios/${pid}/fills`)).body.items;
    expect(fills.length).toBeGreaterThan(0);
    const positions = (await call("GET", `/api/portfolios/${pid}/positions`)).body;
    expect(JSON.stringify(positions)).toContain("BTC-USD");
    expect((await call("GET", `/api/portfolios/${pid}/pnl`)).status).toBe(200);
    // A resting limit order, canceled, read back.
    const limit = await call("POST", `/api/portfolios/${pid}/orders`, {
      symbol: "BTC-USD",
      exchange: "kraken",
      side: "buy",
      type: "limit",
      quantity: "0.1",
      limitPrice: "40000",
    });
    expect(limit.status).toBe(201);
    expect((await call("DELETE", `/api/portfolios/${pid}/orders/${limit.body.id}`)).body.status).toBe(
      "canceled",
    );
    expect((await call("GET", `/api/portfolios/${pid}/orders/${limit.body.id}`)).body.status).toBe(
      "canceled",
    );
    // Cash moves, then the balance and the ledger.
    const usd = async () =>
      (await call("GET", `/api/portfolios/${pid}/cash`)).body.find(
        (b: { currency: string }) => b.currency === "USD",
      );
    const start = await usd();
    expect(
      (await call("POST", `/api/portfolios/${pid}/cash/deposits`, { currency: "USD", amount: "1234.5" }))
        .status,
    ).toBe(201);
    expect(Number((await usd()).balance) - Number(start.balance)).toBeCloseTo(1234.5, 6);
    const ledger = (await call("GET", `/api/portfolios/${pid}/cash/ledger`)).body.items;
    expect(ledger[0]).toMatchObject({ kind: "deposit", currency: "USD" });
    expect(
      (await call("POST", `/api/portfolios/${pid}/cash/withdrawals`, { currency: "USD", amount: "34.5" }))
        .status,
    ).toBe(201);
    expect((await call("GET", `/api/portfolios/${pid}/cash/ledger`)).body.items[0].kind).toBe("withdrawal");
    // Session: the refresh token rotates, the new access token works, logout ends it.
    const refreshed = await api.call("POST", "/api/auth/refresh", {
      body: { refreshToken: user.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    const again = refreshed.body.accessToken as string;
    expect((await api.call("GET", "/api/auth/me", { token: again })).status).toBe(200);
    expect(
      (await api.call("POST", "/api/auth/logout", { body: { refreshToken: refreshed.body.refreshToken } }))
        .status,
    ).toBeLessThan(300);
    // All of that happened with the replica frozen before the user existed: none of it came from there.
    expect(target(api)).toBe("replica");
    expect((await replica`SELECT 1 FROM users WHERE id = ${user.id}`).length).toBe(0);
    expect((await primary`SELECT 1 FROM users WHERE id = ${user.id}`).length).toBe(1);
    await pair.resumeReplay();
    await waitFor(
      async () => (await replica`SELECT 1 FROM orders WHERE portfolio_id = ${pid}`).length === 2,
      {
        timeoutMs: 15_000,
        what: "the orders on the replica",
      },
    );
  }, 90_000);
});

test("a replica further behind than DATABASE_READ_MAX_LAG_MS is left, and rejoined once caught up", async () => {
  await caughtUp();
  await pair.pauseReplay();
  // Paused but nothing new written: the replica is not behind, reads stay on it. (Postgres may log a
  // little WAL of its own, e.g. a standby snapshot, hence "under the bound" rather than 0.)
  await bounded.deps.reads!.check();
  expect(bounded.deps.reads!.status().target).toBe("replica");
  expect(bounded.deps.reads!.status().lagMs).toBeLessThan(300);
  const fresh = ++tradeId;
  await trade(fresh);
  await waitFor(() => target(bounded) === "primary", {
    timeoutMs: 10_000,
    what: "reads to leave the replica",
  });
  expect(bounded.deps.reads!.status().lagMs).toBeGreaterThan(300);
  // Served by the primary now: the new trade is there at once (the frozen replica does not have it).
  expect(await tradeIds(bounded)).toContain(String(fresh));
  expect((await replica`SELECT 1 FROM trades WHERE trade_id = ${fresh}`).length).toBe(0);
  // The 1-hour bound keeps the other API on the replica: stale, as a read route may be.
  expect(target(onReplica)).toBe("replica");
  expect(await tradeIds(onReplica)).not.toContain(String(fresh));
  await pair.resumeReplay();
  await waitFor(() => target(bounded) === "replica", {
    timeoutMs: 15_000,
    what: "reads back on the replica",
  });
  expect(await tradeIds(bounded)).toContain(String(fresh));
  expect(bounded.logs.some((l) => l.includes("replica behind; reads on the primary"))).toBe(true);
}, 60_000);

test("a replica that stops answering is left for the primary, and used again when it is back", async () => {
  await caughtUp();
  const id = ++tradeId;
  await trade(id);
  await pair.stopReplica();
  for (const api of [onReplica, bounded]) {
    await waitFor(() => !api.deps.reads!.status().up && target(api) === "primary", {
      timeoutMs: 15_000,
      what: "reads to leave the stopped replica",
    });
    expect(await tradeIds(api)).toContain(String(id));
  }
  await pair.startReplica();
  for (const api of [onReplica, bounded])
    await waitFor(() => target(api) === "replica", {
      timeoutMs: 30_000,
      what: "the restarted replica in use",
    });
  expect(await tradeIds(onReplica)).toContain(String(id));
}, 90_000);

test("a DATABASE_READ_URL that is no replica (no replay position) is never used for reads; the log says why", async () => {
  const api = await startTestApi(
    { API_CACHE_TTL_MS: "0", DATABASE_READ_URL: pair.primaryUrl },
    { url: pair.primaryUrl, name: "tapewire", sql: primary, drop: async () => {} },
  );
  try {
    expect(api.deps.reads!.status()).toMatchObject({ target: "primary", up: false });
    expect(api.logs.some((l) => l.includes("not a replica in recovery"))).toBe(true);
    expect((await api.call("GET", "/api/market/trades?symbol=BTC-USD&exchange=kraken")).status).toBe(200);
  } finally {
    await api.close();
  }
});
