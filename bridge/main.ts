// The bridge process (Procfile: `bun bridge/main.ts`): relay frames → browsers over WebSockets, and → Postgres.

import { applyAffinity } from "../lib/affinity.ts";
import { createLogger } from "../lib/log.ts";
import { connectRelayConsumer } from "../relay/index.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { makeAuthorizer } from "./auth.ts";
import { type Bridge, startBridge } from "./bridge.ts";
import { bridgeConfig } from "./config.ts";
import { DbFeed } from "./db-feed.ts";
import { type RevocationWatch, watchRevocations } from "./revocations.ts";

const log = createLogger({ process: "bridge" });
applyAffinity("bridge", log);

async function main(): Promise<void> {
  const config = bridgeConfig.readOrExit();
  const registry = loadRegistry();
  let bridge: Bridge | null = null;
  // Authenticated connections end when their session is revoked: the watch closes them through the hub.
  const watch: RevocationWatch | null = config.requireAuth
    ? watchRevocations({
        url: config.redisUrl,
        log,
        onRevoked: (sid) => bridge?.hub.revokeSession(sid),
        sessions: () => bridge?.hub.sessions.sessions() ?? [],
      })
    : null;
  const authorize = watch ? makeAuthorizer(process.env, log, watch.redis) : undefined;
  bridge = await startBridge({
    config,
    registry,
    log,
    authorize,
    readyChecks: watch ? () => ({ sessions: watch.ready }) : undefined,
    separateDbConsumer: true,
  });
  const b = bridge;
  // The database writer resumes from the position committed with its rows, and stops its feed while it can
  // take no more (db-feed.ts); the WebSocket side is live.
  let stopping = false;
  const dbFeed =
    b.dbOnFrame && b.dbPositions
      ? new DbFeed({ relayPath: config.relayPath, positions: b.dbPositions, onFrame: b.dbOnFrame, log })
      : null;
  if (dbFeed) {
    b.writer?.setPressureListener((full) => (full ? dbFeed.pause() : dbFeed.resume()));
    void dbFeed.run();
  }

  const relay = connectRelayConsumer({
    path: config.relayPath,
    name: "bridge",
    onFrame: b.onFrame,
    onConnect() {
      b.metrics.relayConnected.set(1);
      log.info("relay connected", { path: config.relayPath });
    },
    onDisconnect(reason) {
      b.metrics.relayConnected.set(0);
      log.warn("relay disconnected: reconnecting", { path: config.relayPath, reason });
    },
  });

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    relay.close();
    dbFeed?.close();
    await b.close();
    await watch?.close();
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
