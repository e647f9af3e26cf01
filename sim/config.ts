// The simulator's environment, declared once (lib/config.ts); docs/configuration.md is generated from it.
import { defineConfig, int, port, string } from "../lib/config.ts";

export const simConfig = defineConfig("sim", {
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
});
