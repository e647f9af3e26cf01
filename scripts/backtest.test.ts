// `bun run backtest` end to end: a real archive (relay → bridge's writer → archiver), the CLI process, its
// JSON summary, and the rows it stored; bad arguments are refused with a message and exit 2.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { archiveFromRelay, makerScenario } from "../api/backtests/archive.testkit.ts";
import { type FreshDatabase, freshDatabase } from "../lib/testing.ts";
import { connectRelayProducer } from "../relay/index.ts";
import { type RelayProcess, startRelayProcess } from "../relay/testing.ts";
import { Exchange } from "../schema/frame.ts";
import { traderEnvVars } from "./trader-env.ts";

const ROOT = resolve(import.meta.dir, "..");
const haveVenv = existsSync(join(traderEnvVars.read(process.env).venv, "bin", "python"));
const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const dir = mkdtempSync(join(tmpdir(), "tw-bt-cli-"));
let db: FreshDatabase;
let relay: RelayProcess;

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_bt_cli" });
  relay = await startRelayProcess({ dir: join(dir, "relay") });
  const { bytes, lastSeq } = makerScenario(T0);
  const producer = await connectRelayProducer({ path: relay.inPath });
  producer.send(bytes);
  await producer.drained();
  await archiveFromRelay({
    sql: db.sql,
    databaseUrl: db.url,
    relayOut: relay.outPath,
    until: { [Exchange.Binance]: lastSeq },
    root: join(dir, "archive"),
    now: new Date(T0 + 3 * 3_600_000),
  });
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...args: string[]) {
  const p = Bun.spawn(["bun", "scripts/backtest.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url, ARCHIVE_DIR: join(dir, "archive"), LOG_LEVEL: "error" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    p.exited,
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
  ]);
  return { code, out, err };
}

const win = () => [
  "--from",
  new Date(T0 - 60_000).toISOString(),
  "--to",
  new Date(T0 + 60_000).toISOString(),
];

test.skipIf(!haveVenv)(
  "runs the job, prints its statistics and stores its fills",
  async () => {
    const r = await cli(
      "--instrument",
      "BTC-USDT",
      "--venues",
      "BINANCE",
      ...win(),
      "--param",
      "halfSpreadBps=10",
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out.trim().split("\n").at(-1)!);
    expect(summary.status).toBe("done");
    expect(summary.stats.fills).toBe(3);
    expect(summary.stats.realizedPnl).toBe("0.084");
    const [row] = await db.sql`SELECT count(*)::int AS n FROM backtest_fills WHERE run_id = ${summary.id}`;
    expect(row?.n).toBe(3);
  },
  120_000,
);

test("bad arguments are refused with the reason", async () => {
  const noWindow = await cli("--instrument", "BTC-USDT");
  expect(noWindow.code).toBe(2);
  expect(noWindow.err).toContain("--from and --to are required");
  const badParam = await cli(...win(), "--param", "leverage=10");
  expect(badParam.code).toBe(2);
  expect(badParam.err).toContain("--param leverage: unknown");
  const unlisted = await cli(...win(), "--instrument", "BTC-USD");
  expect(unlisted.code).toBe(2);
  expect(unlisted.err).toContain("BTC-USD is not listed on BINANCE");
  const noAccount = await cli(...win(), "--email", "nobody@example.com");
  expect(noAccount.code).toBe(2);
  expect(noAccount.err).toContain("no account nobody@example.com");
}, 60_000);
