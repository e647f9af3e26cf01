// CLI entry for the Procfile: `bun sim/main.ts`. Settings: README.md (SIM_PORT, SIM_SEED, ...).
import { defineConfig, int, port, string } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { startSimulator } from "./index.ts";

const log = createLogger({ service: "sim" });

// Read once, frozen; a bad value exits 78 naming the variable (lib/config.ts).
const config = defineConfig("sim", {
  port: port("SIM_PORT", { default: 9100, meaning: "listen port (0 = any free port)" }),
  host: string("SIM_HOST", { default: "127.0.0.1", meaning: "listen address" }),
  seed: int("SIM_SEED", {
    default: 1,
    min: 0,
    meaning: "market seed: same seed, same event sequence per instrument",
  }),
  eventsPerSecond: int("SIM_EVENTS_PER_SECOND", {
    default: 20,
    min: 0,
    meaning: "market events (trades + book changes) per second per instrument",
  }),
  historyLimit: int("SIM_HISTORY_LIMIT", {
    default: 100_000,
    min: 1,
    meaning: "trades per venue symbol the REST trade-history routes still serve",
  }),
}).readOrExit();
const { seed, eventsPerSecond } = config;
const sim = await startSimulator({
  port: config.port,
  hostname: config.host,
  seed,
  eventsPerSecond,
  historyLimit: config.historyLimit,
  registry: loadRegistry(),
});
log.info("simulator listening", {
  ...sim.urls,
  faults: `http://127.0.0.1:${sim.port}/_sim/faults`,
  seed,
  eventsPerSecond,
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("simulator stopping", { signal });
  await sim.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
