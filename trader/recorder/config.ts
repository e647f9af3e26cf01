// The recorder's settings (it runs inside `bun trader/main.ts`, beside the Python trader it records).
import { join, resolve } from "node:path";
import { defineConfig } from "../../lib/config.ts";
import { duration, string, url } from "../../lib/config-vars.ts";

const root = resolve(import.meta.dir, "..", "..");

export const recorderVars = defineConfig("trader", {
  spoolDir: string("TRADER_SPOOL_DIR", {
    default: join(root, ".data", "trader-spool"),
    defaultText: ".data/trader-spool",
    meaning: "where the trader spools its engine events until the recorder has written them to Postgres",
  }),
  databaseUrl: url("DATABASE_URL", {
    protocols: ["postgres:", "postgresql:"],
    default: undefined,
    defaultText: "set by bun run dev",
    meaning:
      "Postgres the trader's orders, fills, positions and balances are recorded in (unset: spool only)",
  }),
  pollMs: duration("TRADER_RECORDER_POLL_MS", {
    unit: "ms",
    min: 10,
    max: 60_000,
    default: 200,
    meaning: "how often the recorder looks for new spooled events",
  }),
});
