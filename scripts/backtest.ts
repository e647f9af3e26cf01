// `bun run backtest --strategy market_maker --instrument BTC-USDT --venues BINANCE --from T --to T
//   [--param tradeSize=0.001 …] [--email you@example.com]`
// The same job as POST /api/backtests, run here and waited for: validated against the registry and the archive
// manifest, run by NautilusTrader's BacktestEngine in the trader's venv over ARCHIVE_DIR, stored in the backtest
// tables of DATABASE_URL, under the account --email names (so it shows on that user's dashboard) or a local
// `backtests@cli.local` account nobody can log in to. Prints the run's statistics as JSON.
import { parseArgs } from "node:util";
import { eq } from "drizzle-orm";
import { backtestRunnerFor } from "../api/backtests/deps.ts";
import type { CreateBacktest } from "../api/backtests/model.ts";
import { connectDatabase } from "../api/db/client.ts";
import { ApiError } from "../api/errors.ts";
import { createLogger } from "../lib/log.ts";
import { users } from "../schema/db/accounts.ts";

const CLI_EMAIL = "backtests@cli.local";
const USAGE = `usage: bun run backtest --strategy market_maker|spread --instrument BTC-USDT --venues BINANCE[,KRAKEN]
  --from 2026-12-01T10:00:00Z --to 2026-12-01T11:00:00Z [--param tradeSize=0.001] [--param halfSpreadBps=2]
  [--param maxInventory=0.01] [--param entryBps=5] [--param startingBalances="100000 USDT"] [--email ADDRESS]`;

function fail(message: string, code = 2): never {
  console.error(`backtest: ${message}`);
  process.exit(code);
}

const { values } = parseArgs({
  options: {
    strategy: { type: "string", default: "market_maker" },
    instrument: { type: "string", default: "BTC-USDT" },
    venues: { type: "string", default: "BINANCE" },
    from: { type: "string" },
    to: { type: "string" },
    param: { type: "string", multiple: true, default: [] },
    email: { type: "string" },
    help: { type: "boolean", default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.from || !values.to) fail(`--from and --to are required\n${USAGE}`);
const url = process.env.DATABASE_URL;
if (!url)
  fail("DATABASE_URL is not set (the database the archiver's manifest and the backtest tables are in)", 78);

const INT_PARAMS = new Set(["halfSpreadBps", "entryBps"]);
const params: Record<string, unknown> = {};
for (const p of values.param) {
  const [key, ...rest] = p.split("=");
  const value = rest.join("=");
  if (!key || !value) fail(`--param ${p}: expected key=value`);
  if (!["tradeSize", "maxInventory", "halfSpreadBps", "entryBps", "startingBalances"].includes(key))
    fail(`--param ${key}: unknown (tradeSize, maxInventory, halfSpreadBps, entryBps, startingBalances)`);
  if (INT_PARAMS.has(key) && !/^[1-9][0-9]{0,4}$/.test(value))
    fail(`--param ${key}: expected an integer 1..10000`);
  params[key] = INT_PARAMS.has(key)
    ? Number(value)
    : key === "startingBalances"
      ? value.split(",").map((s) => s.trim())
      : value;
}

const log = createLogger({ process: "backtest" });
const { sql, db } = connectDatabase(url, 2, "tapewire-backtest");
const { backtests, backtestRunner } = backtestRunnerFor(db, process.env, log);
try {
  const email = values.email?.toLowerCase() ?? CLI_EMAIL;
  let [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
  if (!user && values.email) fail(`no account ${values.email}: register it on the dashboard first`);
  if (!user) {
    // Not a password hash: nothing verifies against it, so nobody can log in as the CLI's account.
    [user] = await db
      .insert(users)
      .values({ email: CLI_EMAIL, passwordHash: "!backtest-cli-account" })
      .onConflictDoNothing()
      .returning({ id: users.id });
    user ??= (await db.select({ id: users.id }).from(users).where(eq(users.email, CLI_EMAIL)))[0];
  }
  const input = {
    strategy: values.strategy,
    instrument: values.instrument,
    venues: values.venues.split(",").map((v) => v.trim().toUpperCase()),
    from: values.from,
    to: values.to,
    params,
  } as CreateBacktest;
  if (!["market_maker", "spread"].includes(input.strategy)) fail("--strategy: market_maker or spread");
  const run = await backtests.create(user!.id, input);
  console.error(
    `backtest ${run.id} queued: ${input.strategy} on ${input.instrument} ${input.venues.join(",")}`,
  );
  backtestRunner.enqueue(run.id);
  await backtestRunner.idle();
  const done = await backtests.run(user!.id, run.id);
  console.log(
    JSON.stringify({
      id: done.id,
      status: done.status,
      error: done.error,
      data: done.data,
      stats: done.stats,
    }),
  );
  process.exitCode = done.status === "done" ? 0 : 1;
} catch (error) {
  if (error instanceof ApiError) fail(error.message, 2);
  throw error;
} finally {
  await sql.end({ timeout: 5 });
}
