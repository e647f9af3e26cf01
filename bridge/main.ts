// The bridge process (Procfile: `bun bridge/main.ts`): relay frames → browsers over WebSockets, and → Postgres.
import { createLogger } from "../lib/log.ts";
import { connectRelayConsumer } from "../relay/index.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { makeAuthorizer } from "./auth.ts";
import { startBridge } from "./bridge.ts";
import { loadBridgeConfig } from "./config.ts";

const log = createLogger({ process: "bridge" });

async function main(): Promise<void> {
  const config = loadBridgeConfig();
  const registry = loadRegistry();
  const authorize = config.requireAuth ? makeAuthorizer(process.env, log) : undefined;
  const bridge = await startBridge({ config, registry, log, authorize });

  const relay = connectRelayConsumer({
    path: config.relayPath,
    name: "bridge",
    onFrame: bridge.onFrame,
    onConnect() {
      bridge.metrics.relayConnected.set(1);
      log.info("relay connected", { path: config.relayPath });
    },
    onDisconnect(reason) {
      bridge.metrics.relayConnected.set(0);
      log.warn("relay disconnected: reconnecting", { path: config.relayPath, reason });
    },
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    relay.close();
    await bridge.close();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error) => {
  log.error("bridge failed to start", { error });
  process.exit(1);
});
