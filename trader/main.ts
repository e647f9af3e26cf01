// `bun trader/main.ts` (the Procfile's `trader`): makes sure the Python environment exists (first run: creates
// it, with pip's progress), then runs `python -m tapewire_trader` in it, passing signals on, and beside it the
// recorder that writes the engine events the trader spools to Postgres (trader/recorder/). With
// TAPEWIRE_TRADER=off, or no usable Python, it says so once and exits 0 so the rest of the stack runs.
import { join, resolve } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { createLogger } from "../lib/log.ts";
import { ensureTraderEnv } from "../scripts/trader-env.ts";
import { recorderVars, TraderRecorder } from "./recorder/index.ts";

const root = resolve(import.meta.dir, "..");
const say = (line: string) => console.log(`[trader-env] ${line}`);

const env = await ensureTraderEnv({ say });
if (env.status === "off") {
  console.log("trader: off (TAPEWIRE_TRADER=off)");
  process.exit(0);
}
if (env.status === "no-python") {
  console.error(env.message);
  process.exit(0);
}

const cfg = recorderVars.readOrExit(process.env);
const log = createLogger({ svc: "trader-recorder" });
const sql = cfg.databaseUrl
  ? postgres(cfg.databaseUrl, {
      max: 2,
      connection: { TimeZone: "UTC", application_name: "tapewire-trader" },
      onnotice: () => {},
    })
  : null;
const recorder = sql
  ? new TraderRecorder({ dir: cfg.spoolDir, db: drizzle(sql), log, pollMs: cfg.pollMs })
  : null;
if (recorder) {
  recorder.start();
  log.info("recording trader events", { spoolDir: cfg.spoolDir });
} else log.warn("DATABASE_URL unset: trader events stay in the spool", { spoolDir: cfg.spoolDir });

const child = Bun.spawn([env.python, "-m", "tapewire_trader", ...process.argv.slice(2)], {
  cwd: root,
  env: {
    ...process.env,
    PYTHONPATH: join(root, "trader"),
    PYTHONDONTWRITEBYTECODE: "1",
    TRADER_SPOOL_DIR: cfg.spoolDir,
  },
  stdio: ["ignore", "inherit", "inherit"],
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
const code = await child.exited;
// What the trader spooled up to its exit is committed before this process ends (or stays spooled).
await recorder?.close();
if (recorder) log.info("recorder stopped", { ...recorder.stats });
await sql?.end({ timeout: 2 });
process.exit(code);
