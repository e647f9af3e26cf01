// `bun relay/main.ts` (Procfile): start the relay from the environment, stop cleanly on SIGINT/SIGTERM.

import { applyAffinity } from "../lib/affinity.ts";
import { createLogger } from "../lib/log.ts";
import { ConfigError, loadRelayConfig } from "./config.ts";
import { type Relay, startRelay } from "./server.ts";
import { RelayStartError } from "./sockets.ts";

const log = createLogger({ service: "relay", pid: process.pid });
applyAffinity("relay", log);
let relay: Relay | null = null;
let starting = true;
let stopRequested = false;

// Installed before start-up; a signal during start-up is honoured as soon as the sockets exist, so they are
// always unlinked.
const shutdown = (signal: string) => {
  log.info("shutting down", { signal });
  stopRequested = true;
  if (starting) return;
  relay?.stop();
  process.exit(0);
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));

try {
  relay = await startRelay(loadRelayConfig(), log);
  starting = false;
  if (stopRequested) shutdown("deferred");
} catch (error) {
  if (error instanceof ConfigError || error instanceof RelayStartError) {
    log.error(error.message, { error });
    process.exit(2);
  }
  log.error("relay failed to start", { error });
  process.exit(1);
}
