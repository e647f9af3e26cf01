// POST /api/backtests on a real archive: frames through a real relay, stored by the bridge's database writer,
// exported by the archiver (archive.testkit.ts), then the job runs NautilusTrader in the trader's venv and its
// results land in the backtest tables; real Postgres and Redis throughout.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectRelayProducer } from "../../relay/index.ts";
import { startRelayProcess } from "../../relay/testing.ts";
import { Exchange } from "../../schema/frame.ts";
import { traderEnvVars } from "../../scripts/trader-env.ts";
import { newUser, startTestApi, type TestApi } from "../test/harness.ts";
import { archiveFromRelay, makerBacktest, makerScenario } from "./archive.testkit.ts";

// Without the venv the job tests are skipped here; trader/pytest.test.ts fails CI for a missing venv.
const haveVenv = existsSync(join(traderEnvVars.read(process.env).venv, "bin", "python"));
const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const root = mkdtempSync(join(tmpdir(), "tw-bt-api-"));
let api: TestApi;
let token: string;
let userId: string;
let relay: Awaited<ReturnType<typeof startRelayProcess>>;

beforeAll(async () => {
  relay = await startRelayProcess({ dir: join(root, "relay") });
  api = await startTestApi({ ARCHIVE_DIR: join(root, "archive"), BACKTEST_MAX_QUEUED: "2" });
  const u = await newUser(api, "backtester");
  token = u.token;
  userId = u.id;
  const { bytes, lastSeq } = makerScenario(T0);
  const producer = await connectRelayProducer({ path: relay.inPath });
  producer.send(bytes);
  await producer.drained();
  await archiveFromRelay({
    sql: api.db.sql,
    databaseUrl: api.db.url,
    relayOut: relay.outPath,
    until: { [Exchange.Binance]: lastSeq },
    root: join(root, "archive"),
    now: new Date(T0 + 3 * 3_600_000),
  });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await relay?.[Symbol.asyncDispose]();
  rmSync(root, { recursive: true, force: true });
});

const body = (over: Record<string, unknown> = {}) => makerBacktest(T0, over);

describe("POST /api/backtests: checked before anything runs", () => {
  test("needs a token", async () => {
    const r = await api.call("POST", "/api/backtests", { body: body() });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("unauthorized");
  });

  test.each([
    [{ strategy: "martingale" }, 422, "strategy must be one of"],
    [{ venues: ["NYSE"] }, 422, "venues"],
    [{ venues: ["KRAKEN", "BINANCE"] }, 422, "one venue"],
    [{ strategy: "spread" }, 422, "two different venues"],
    [{ instrument: "DOGE-EUR" }, 422, "not in the registry"],
    [{ instrument: "BTC-USD" }, 422, "not listed on BINANCE"],
    [{ from: "2026-11-30T11:00:00Z", to: "2026-11-30T10:00:00Z" }, 422, "from must be before to"],
    [{ from: "2026-02-30T10:00:00Z" }, 422, "has no day 30"],
    [{ from: "2025-01-01T00:00:00Z" }, 422, "at most 31 days"],
    [{ from: "2026-11-29T10:00:00Z", to: "2026-11-29T11:00:00Z" }, 422, "archive holds no trades"],
    [{ params: { tradeSize: "-1" } }, 422, "params.tradeSize"],
    [{ params: { tradeSize: "0" } }, 422, "greater than 0"],
    [{ params: { halfSpreadBps: 0 } }, 422, "params.halfSpreadBps"],
  ])("%j → %i", async (over, status, message) => {
    const r = await api.call("POST", "/api/backtests", { token, body: body(over) });
    expect(r.status).toBe(status);
    expect(typeof r.body.error).toBe("string");
    expect(r.body.message).toContain(message);
  });

  test("a body that is not JSON is a JSON 400", async () => {
    const r = await api.call("POST", "/api/backtests", { token, body: "{nope" });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("bad_request");
  });

  test("an unknown id is a 404, a malformed one a 422", async () => {
    const unknown = await api.call("GET", `/api/backtests/${crypto.randomUUID()}`, { token });
    expect(unknown.status).toBe(404);
    expect((await api.call("GET", "/api/backtests/nope", { token })).status).toBe(422);
  });
});

describe.skipIf(!haveVenv)("a backtest job over the archive", () => {
  let id: string;

  test("is queued (202), runs, and stores statistics, orders, fills, positions and the equity curve", async () => {
    const r = await api.call("POST", "/api/backtests", { token, body: body() });
    expect(r.status).toBe(202);
    expect(["queued", "running"]).toContain(r.body.status);
    expect(r.body.stats).toBeNull();
    id = r.body.id;
    await api.deps.backtestRunner.idle();
    const got = await api.call("GET", `/api/backtests/${id}`, { token });
    expect(got.status).toBe(200);
    const run = got.body;
    expect(run.error).toBeNull();
    expect(run.status).toBe("done");
    expect(run.data.trades).toBe(2);
    expect(run.data.quotes).toBe(2); // the archived book's two tops
    expect(run.data.files.every((p: string) => p.includes("exchange=binance"))).toBe(true);
    // The maker's bid at mid − 10 bps is hit by the seller; the book's move to 42100 runs through its offer
    // (42042.50); after the re-quote the buyer lifts the new offer (mid 42100.50 + 10 bps): exact prices.
    const fills = run.fills.map((x: { side: string; price: string; quantity: string }) => [
      x.side,
      x.price,
      x.quantity,
    ]);
    expect(fills).toEqual([
      ["BUY", "41958.50", "0.00100"],
      ["SELL", "42042.50", "0.00100"],
      ["SELL", "42142.60", "0.00100"],
    ]);
    const filled = run.orders.filter((o: { status: string }) => o.status === "FILLED");
    expect(filled.map((o: { price: string }) => o.price).sort()).toEqual([
      "41958.50",
      "42042.50",
      "42142.60",
    ]);
    expect(run.stats.fills).toBe(3);
    expect(run.stats.realizedPnl).toBe("0.084"); // (42042.50 − 41958.50) × 0.001
    expect(run.stats.unrealizedPnl).toBe("-0.0074"); // short 0.001 from 42142.60, marked at the 42150 trade
    expect(run.stats.startEquity).toBe("100000");
    expect(run.positions).toHaveLength(1);
    expect(run.positions[0]).toMatchObject({ side: "SHORT", quantity: "0.001", avgPx: "42142.6" });
    expect(run.equity.length).toBeGreaterThanOrEqual(2);
    expect(run.equity.at(-1).equity).toBe(run.stats.endEquity);
    expect(run.fills[0].time).toBe(new Date(T0 + 3100).toISOString().replace("Z", "000Z"));
    const rows = await api.db.sql`SELECT count(*)::int AS n FROM backtest_fills WHERE run_id = ${id}`;
    expect(rows[0]?.n).toBe(3);
  }, 180_000);

  test("is listed for its owner with its statistics, and invisible to anyone else", async () => {
    const list = await api.call("GET", "/api/backtests", { token });
    expect(list.status).toBe(200);
    const mine = list.body.find((r: { id: string }) => r.id === id);
    expect(mine.stats.netPnl).toBeDefined();
    const other = (await newUser(api, "other")).token;
    expect((await api.call("GET", `/api/backtests/${id}`, { token: other })).status).toBe(404);
    expect((await api.call("GET", "/api/backtests", { token: other })).body).toEqual([]);
  });

  test("after an API restart: a run left running past the timeout is failed, a fresh one is left alone, a queued one runs", async () => {
    const row = (status: string, startedAt: Date | null) => ({
      user_id: userId,
      status,
      strategy: "market_maker",
      instrument: "BTC-USDT",
      venues: ["BINANCE"],
      from_time: new Date(T0 - 60_000),
      to_time: new Date(T0 + 60_000),
      params: api.db.sql.json({ halfSpreadBps: 10 }),
      started_at: startedAt,
    });
    await api.db.sql`DELETE FROM backtest_runs`;
    const [stale, fresh, queued] = await api.db.sql`INSERT INTO backtest_runs ${api.db.sql([
      row("running", new Date(Date.now() - 2 * 3_600_000)),
      row("running", new Date()),
      row("queued", null),
    ])} RETURNING id`;
    await api.deps.backtestRunner.start();
    await api.deps.backtestRunner.idle();
    const status = async (id: string) =>
      (await api.call("GET", `/api/backtests/${id}`, { token })).body as {
        status: string;
        error: string | null;
      };
    expect(await status(stale!.id)).toMatchObject({
      status: "failed",
      error: "interrupted: the API stopped while it ran",
    });
    expect((await status(fresh!.id)).status).toBe("running"); // maybe another API process's: not touched
    expect(await status(queued!.id)).toMatchObject({ status: "done", error: null });
    await api.db.sql`DELETE FROM backtest_runs WHERE id = ${fresh!.id}`;
  }, 180_000);

  test("a run whose archive files are gone fails with the reason, and stores nothing", async () => {
    rmSync(join(root, "archive", "trades"), { recursive: true, force: true });
    const r = await api.call("POST", "/api/backtests", { token, body: body() });
    expect(r.status).toBe(202);
    await api.deps.backtestRunner.idle();
    const got = (await api.call("GET", `/api/backtests/${r.body.id}`, { token })).body;
    expect(got.status).toBe("failed");
    expect(got.error).toMatch(/^backtest: the archive's partition file trades\/.* is missing/);
    expect(got.fills).toEqual([]);
    expect(got.stats).toBeNull();
  }, 180_000);
});

describe("without the trader's Python environment", () => {
  test("a bad request is still a 422, a good one a 503 that says what to run, and nothing is queued", async () => {
    const saved = api.deps.backtestPython;
    (api.deps as { backtestPython: string }).backtestPython = join(root, "no-venv", "bin", "python");
    try {
      const bad = await api.call("POST", "/api/backtests", { token, body: body({ instrument: "DOGE-EUR" }) });
      expect(bad.status).toBe(422);
      const good = await api.call("POST", "/api/backtests", { token, body: body() });
      expect(good.status).toBe(503);
      expect(good.body.message).toContain("bun scripts/trader-env.ts");
      const [row] = await api.db.sql`SELECT count(*)::int AS n FROM backtest_runs WHERE status = 'queued'`;
      expect(row?.n).toBe(0);
    } finally {
      (api.deps as { backtestPython: string }).backtestPython = saved;
    }
  });
});
