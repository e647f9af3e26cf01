// The bridge process (Procfile: `bun bridge/main.ts`): relay frames → browsers over WebSockets, and → Postgres.

import { applyAffinity } from "../lib/affinity.ts";
import { createLogger } from "../lib/log.ts";
import { connectRelayConsumer } from "../relay/index.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { makeAuthorizer } from "./auth.ts";
import { type Bridge, startBridge } from "./bridge.ts";
import { bridgeConfig } from "./config.ts";
import { type RevocationWatch, watchRevocations } from "./revocations.ts";
import { DB_CONSUMER, resumeFrom } from "./sink/positions.ts";
import type { RelayPosition } from "./sink/types.ts";

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
  // The database writer resumes from the position committed with its rows; the WebSocket side is live.
  // Not awaited: a database that is down at start must not hold up the live WebSocket stream.
  let stopping = false;
  let dbRelay: { close(): void } | null = null;
  if (b.dbOnFrame && b.dbPositions)
    void connectDbConsumer(config.relayPath, b.dbPositions, b.dbOnFrame, () => stopping).then((c) => {
      dbRelay = c;
      if (stopping) c?.close();
    });

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
    dbRelay?.close();
    await b.close();
    await watch?.close();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/**
 * The database writer's relay consumer, started from relay_positions (read on the writer's own connection).
 * While the database cannot be read the consumer waits (the relay journal keeps the frames), retrying with
 * backoff.
 */
async function connectDbConsumer(
  relayPath: string,
  positions: () => Promise<RelayPosition[]>,
  onFrame: (view: DataView, offset: number) => void,
  stopped: () => boolean,
) {
  let delay = 250;
  while (!stopped()) {
    try {
      const startFrom = resumeFrom(await positions());
      log.info("database writer resumes", { startFrom });
      return connectRelayConsumer({
        path: relayPath,
        name: DB_CONSUMER,
        resume: true,
        startFrom,
        onFrame,
        onDisconnect(reason) {
          log.warn("database consumer: relay disconnected, resuming", { reason });
        },
      });
    } catch (error) {
      log.limited("warn", "db-positions", "cannot read relay_positions yet: the journal keeps the frames", {
        error,
      });
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 10_000);
    }
  }
  return null;
}

main().catch((error) => {
  log.error("bridge failed to start", { error });
  process.exit(1);
});
