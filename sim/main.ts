// CLI entry for the Procfile: `bun sim/main.ts`. SIM_PORT (default 9100), SIM_SEED, SIM_EVENTS_PER_SECOND.
import { createLogger } from "../lib/log.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { startSimulator } from "./index.ts";

const log = createLogger({ service: "sim" });

function intEnv(name: string, fallback: number, min: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    log.error("bad environment variable", { variable: name, value: text, expected: `integer >= ${min}` });
    process.exit(2);
  }
  return value;
}

const port = intEnv("SIM_PORT", 9100, 0);
const seed = intEnv("SIM_SEED", 1, 0);
const eventsPerSecond = intEnv("SIM_EVENTS_PER_SECOND", 20, 0);
const sim = await startSimulator({
  port,
  hostname: process.env.SIM_HOST || "127.0.0.1",
  seed,
  eventsPerSecond,
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
