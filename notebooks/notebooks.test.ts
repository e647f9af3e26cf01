// Executes every notebook in notebooks/ (nbclient, in notebooks/.venv) against a stack seeded here: a fresh
// database with two days of trades and a day of book tops, the archiver's export of the closed day (compacted
// into day files, its hourly files still in the folder for the grace period) and of the next day's first 20
// hours, and the real API process. Then checks that the notebooks' outputs hold the real values, computed
// independently from Postgres: every trade once, although listing the archive's folders would count a day twice.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Archiver } from "../archiver/archiver.ts";
import { openExportDuck } from "../archiver/duck.ts";
import { createLogger } from "../lib/log.ts";
import { type FreshDatabase, freshDatabase, waitFor } from "../lib/testing.ts";
import { loadRegistry } from "../schema/instruments.ts";

const ROOT = join(import.meta.dir, "..");
const PYTHON = join(import.meta.dir, ".venv", "bin", "python");
const haveVenv = existsSync(PYTHON);
if (!haveVenv && process.env.CI)
  throw new Error("notebooks/.venv is missing: .ci/run must create it (bun run notebooks:env)");
if (!haveVenv) console.warn("SKIPPING notebook tests: run `bun run notebooks:env` to create notebooks/.venv");

const day = Date.UTC(2026, 10, 30);
const H = 3_600_000;
let db: FreshDatabase;
let archive: string;
let out: string;
let api: ReturnType<typeof Bun.spawn> | undefined;
let apiUrl = "";

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port ?? 0;
  s.stop(true);
  return port;
}

beforeAll(async () => {
  if (!haveVenv) return;
  db = await freshDatabase({ prefix: "tw_notebooks" });
  archive = mkdtempSync(join(tmpdir(), "tw-nb-archive-"));
  out = mkdtempSync(join(tmpdir(), "tw-nb-out-"));
  // A trade every 30 s per exchange for 48 h (the day before `day` and `day`), BTC-USD on kraken and coinbase,
  // BTC-USDT on binance.
  await db.sql.unsafe(`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
    SELECT to_timestamp(${(day - 24 * H) / 1000} + i * 30 + ex), ex, CASE WHEN ex = 3 THEN 4 ELSE 1 END, i, 91000 + (i % 97) * 1.25 + ex * 0.01,
      0.0001 * (1 + (i * 7 + ex) % 50), CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END, i, (${day - 24 * H}::bigint + i * 30000) * 1000000
    FROM generate_series(0, 5759) i, generate_series(1, 3) ex`);
  await db.sql.unsafe(`INSERT INTO book_tops (time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size)
    SELECT to_timestamp(${day / 1000} + s), ex, 1, 91000 + ex, 1, 91000.5 + ex + (s % 3) * 0.25, 2
    FROM generate_series(0, 3599) s, generate_series(1, 2) ex`);
  const { duck, close } = await openExportDuck();
  const log = createLogger({}, () => {});
  await new Archiver(db.sql, duck, {
    root: archive,
    intervalS: 3600,
    recheckS: 86_400,
    registry: loadRegistry({}),
    log,
    now: () => new Date(day + 20 * H),
    // The closed day becomes one file per exchange; its hourly files stay in the folder (grace: an hour).
    compact: true,
    compactGraceMs: H,
  }).runOnce();
  close();
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  api = Bun.spawn(["bun", "api/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      API_PORT: String(port),
      API_HOST: "127.0.0.1",
      ARCHIVE_DIR: archive,
      JWT_SECRET: `notebook-test-secret-${"n".repeat(40)}`,
      API_REDIS_PREFIX: `tw-nb-${process.pid}:`,
      API_MATCHER_MS: "1000",
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  await waitFor(async () => (await fetch(`${apiUrl}/health`).catch(() => null))?.ok === true, {
    timeoutMs: 30_000,
    what: "API /health",
  });
}, 120_000);

afterAll(async () => {
  api?.kill();
  await api?.exited;
  await db?.drop();
  if (archive) rmSync(archive, { recursive: true, force: true });
  if (out) rmSync(out, { recursive: true, force: true });
});

describe.skipIf(!haveVenv)("notebooks", () => {
  test("every notebook runs against the seeded stack and its outputs hold the real values", async () => {
    const notebooks = readdirSync(import.meta.dir)
      .filter((f) => f.endsWith(".ipynb"))
      .sort();
    expect(notebooks.length).toBeGreaterThanOrEqual(2);
    const run = Bun.spawnSync(
      [PYTHON, join(import.meta.dir, "run.py"), out, ...notebooks.map((n) => join(import.meta.dir, n))],
      {
        env: {
          ...process.env,
          TAPEWIRE_ARCHIVE_DIR: archive,
          TAPEWIRE_API_URL: apiUrl,
          TAPEWIRE_NOTEBOOK_OUT: out,
          TAPEWIRE_DATABASE_URL: db.url,
        },
        timeout: 600_000,
      },
    );
    if (run.exitCode !== 0) throw new Error(`notebooks failed:\n${run.stderr.toString().slice(-4000)}`);
    const results = JSON.parse(run.stdout.toString().trim().split("\n").at(-1) ?? "{}");
    const research = results["01-archive-research"];
    const viaApi = results["02-api-from-python"];

    const archived = `time < '${new Date(day + 20 * H).toISOString()}'`;
    const [pg] = await db.sql.unsafe(`SELECT count(*)::int AS n,
          sum(size) FILTER (WHERE instrument_id = 1)::text AS btc_volume,
          count(*) FILTER (WHERE instrument_id = 1)::int AS btc_n,
          sum(price * size) FILTER (WHERE instrument_id = 1 AND exchange = 1)::text AS kraken_notional,
          count(*) FILTER (WHERE instrument_id = 1 AND exchange = 1)::int AS kraken_n
        FROM trades WHERE ${archived}`);
    const [whole] =
      await db.sql`SELECT count(*)::int AS n FROM trades WHERE instrument_id = 1 AND time >= ${new Date(day)}`;
    const sameDecimal = (a: string, b: string) =>
      expect(Number(a) === Number(b) && a.replace(/0+$/, "") === b.replace(/0+$/, "")).toBe(true);

    expect(research.partitions).toBe(63); // a day file and 20 hours for each of 3 exchanges
    expect(research.trades).toBe(pg?.n);
    expect(research.manifest_rows).toBe(pg?.n);
    // What listing the folder would read: the compacted day's 72 superseded hourly files too, its trades twice.
    expect(research.listed_files).toBe(63 + 72);
    const [closed] = await db.sql`SELECT count(*)::int AS n FROM trades WHERE time < ${new Date(day)}`;
    expect(research.listed_rows).toBe(Number(pg?.n) + Number(closed?.n));
    expect(research.btc_trades_duckdb).toBe(pg?.btc_n);
    sameDecimal(research.btc_volume, String(pg?.btc_volume));
    sameDecimal(research.kraken_btc_notional, String(pg?.kraken_notional));
    expect(research.vwap_minutes).toBeGreaterThan(20 * 60);
    expect(research.plot).toBe(true);
    expect(existsSync(join(out, "vwap.png"))).toBe(true);

    expect(viaApi.sql_status).toBe(200);
    expect(viaApi.kraken_btc_trades_sql).toBe(pg?.kraken_n);
    sameDecimal(viaApi.kraken_btc_notional_sql, String(pg?.kraken_notional));
    expect(viaApi.notional_is_decimal).toBe(true);
    // Analytics over archive + live: every BTC-USD trade of the day exactly once.
    expect(viaApi.ohlcv_trades).toBe(whole?.n);
    expect(viaApi.ohlcv_sources.archivedFiles).toBe(60); // every archived trade partition in range (instrument filtered in the scan)
    expect(viaApi.ohlcv_sources.databaseRows).toBeGreaterThan(0);
    expect(viaApi.hostile_status).toBe(422);
  }, 600_000);
});
