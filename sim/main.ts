// CLI entry for the Procfile: `bun sim/main.ts`. Settings: README.md (SIM_PORT, SIM_SEED, ...).

import { applyAffinity } from "../lib/affinity.ts";
import { createLogger } from "../lib/log.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { simConfig } from "./config.ts";
import { startSimulator } from "./index.ts";

const log = createLogger({ service: "sim" });
applyAffinity("sim", log);

// Read once, frozen; a bad value exits 78 naming the variable (lib/config.ts).
const config = simConfig.readOrExit();
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
