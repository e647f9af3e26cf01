// Builds a bridge from its config: topic table, WebSocket hub and server, frame router, database writer and the
// timers (batch seal, BBO sampling). The relay connection is the caller's (main.ts), so tests and benchmarks
// can feed frames straight into onFrame.
import type { Server } from "bun";
import { createLogger, type Logger } from "../lib/log.ts";
import { metricsConfig, type Readiness, serveMetrics } from "../lib/metrics.ts";
import { type InstrumentRegistry, loadRegistry } from "../schema/instruments.ts";
import type { Authorizer } from "./auth.ts";
import { type ClientData, ClientHub } from "./clients.ts";
import type { BridgeConfig } from "./config.ts";
import { type DbProbe, makeDbProbe } from "./db-probe.ts";
import { BridgeMetrics } from "./metrics.ts";
import { Publisher } from "./publisher.ts";
import { FrameRouter } from "./router.ts";
import { RowEncoder } from "./rows.ts";
import { startWsServer } from "./server.ts";
import { createDbRouter } from "./sink/db-consumer.ts";
import { PostgresSink } from "./sink/postgres.ts";
import { Spool } from "./sink/spool.ts";
import type { BatchSink, RelayPosition } from "./sink/types.ts";
import { BatchWriter } from "./sink/writer.ts";
import { KERNEL_UNSENT_BYTES, limitUnsentBytes } from "./socket-buffers.ts";
import { TopicTable } from "./topics.ts";

export interface BridgeDeps {
  config: BridgeConfig;
  registry?: InstrumentRegistry;
  log?: Logger;
  metrics?: BridgeMetrics;
  /** Overrides the Postgres sink built from config.databaseUrl. */
  sink?: BatchSink;
  authorize?: Authorizer;
  /** More readiness checks than relay and database (main.ts: the session-revocation watch). */
  readyChecks?: () => Record<string, boolean>;
  /** Whether the database answers (default: a SELECT 1 on config.databaseUrl, see db-probe.ts). */
  databaseReachable?: DbProbe;
  /**
   * The database writer reads its own relay consumer (dbOnFrame, resuming from relay_positions) instead of
   * the WebSocket stream's (main.ts). Off: onFrame feeds both, as tests and benchmarks drive it.
   */
  separateDbConsumer?: boolean;
}

export interface Bridge {
  /** Feed one relay frame (valid only during the call). */
  readonly onFrame: (view: DataView, offset: number) => void;
  readonly server: Server<ClientData>;
  readonly port: number;
  readonly metricsPort: number | null;
  readonly metrics: BridgeMetrics;
  readonly hub: ClientHub;
  readonly router: FrameRouter;
  /** With separateDbConsumer: the database writer's frames (its own relay consumer), else null. */
  readonly dbOnFrame: ((view: DataView, offset: number) => void) | null;
  /** The database writer's stored relay positions, read on its own connection; null without a Postgres sink. */
  readonly dbPositions: (() => Promise<RelayPosition[]>) | null;
  readonly writer: BatchWriter | null;
  /** Hand partly filled row batches to the writer now (normally done every batchMs). */
  sealRows(): void;
  /** Stop serving, store what is pending (or spool it), close the database connection. */
  close(): Promise<void>;
  /** `await using bridge = await startBridge(...)` closes it at the end of scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

const SLOW_CHECK_MS = 250;

export async function startBridge(deps: BridgeDeps): Promise<Bridge> {
  const config = deps.config;
  const log = deps.log ?? createLogger({ process: "bridge" });
  const registry = deps.registry ?? loadRegistry();
  const metrics = deps.metrics ?? new BridgeMetrics();
  const table = new TopicTable(registry, { kraken: config.krakenBookDepth, other: config.bookDepth });
  const hub = new ClientHub(table, registry, config, metrics, log);
  // Check slow clients every 1/16 of the total budget fanned out, so one burst cannot blow through it.
  const publisher = new Publisher(metrics, () => hub.checkBackpressure(), config.maxTotalBufferedBytes / 16);

  let writer: BatchWriter | null = null;
  let rows: RowEncoder | null = null;
  const sink = deps.sink ?? (config.databaseUrl ? new PostgresSink(config.databaseUrl, { log }) : null);
  if (sink) {
    const spool = new Spool(config.spoolDir, config.spoolSegmentBytes);
    writer = new BatchWriter(
      sink,
      spool,
      { maxQueuedBytes: config.maxQueuedBytes, retryMaxMs: config.retryMaxMs },
      metrics,
      log,
    );
    await writer.start();
    const w = writer;
    rows = new RowEncoder(config.batchRows, (batch) => w.enqueue(batch));
  } else {
    log.warn("DATABASE_URL is not set: the bridge serves WebSockets but stores nothing");
  }

  const separate = deps.separateDbConsumer === true && rows !== null;
  const router = new FrameRouter(table, publisher, separate ? null : rows, metrics, log);
  const dbRouter =
    separate && rows
      ? createDbRouter({
          registry,
          bookDepths: { kraken: config.krakenBookDepth, other: config.bookDepth },
          rows,
          // Its own counters: frames_in_total counts the stream once (the WebSocket consumer's); the writer's
          // progress shows in rows_queued/rows_written.
          metrics: new BridgeMetrics(),
          log,
        })
      : null;
  // Book tops are sampled from whichever router stores rows.
  const storing = dbRouter ?? router;
  const dbProbe = deps.databaseReachable ?? (config.databaseUrl ? makeDbProbe(config.databaseUrl) : null);
  const ready = async (): Promise<Readiness> => {
    const checks: Record<string, boolean> = {
      relay: metrics.relayConnected.value === 1,
      ...(dbProbe ? { database: await dbProbe() } : {}),
      ...deps.readyChecks?.(),
    };
    return { ready: Object.values(checks).every(Boolean), checks };
  };
  const probes = metricsConfig.read();
  const server = startWsServer({
    port: config.port,
    hostname: config.hostname,
    hub,
    metrics,
    registry: metrics.registry,
    allowedOrigins: config.allowedOrigins,
    maxClients: config.maxClients,
    maxBufferedBytes: config.maxBufferedBytes,
    maxMessageBytes: config.maxMessageBytes,
    authorize: deps.authorize,
    health: () => ({ database: writer ? (writer.idle ? "ok" : "behind") : "off" }),
    ready,
    metricsToken: probes.token,
  });
  publisher.target = server;
  // Before any client connects: what a client's socket may hold in the kernel unsent (socket-buffers.ts).
  const unsent = limitUnsentBytes(server.port ?? config.port, KERNEL_UNSENT_BYTES);
  if (unsent.applied) log.debug("kernel unsent bytes per client bounded", { bytes: KERNEL_UNSENT_BYTES });
  else
    log.warn("cannot bound the kernel's unsent bytes per client: slow clients are seen later", {
      reason: unsent.reason,
    });
  const metricsServer =
    config.metricsPort >= 0 ? serveMetrics(metrics.registry, config.metricsPort, { ready }) : null;
  // The slow-client check also runs without traffic: the time limit needs a clock.
  const slowTimer = setInterval(() => hub.checkBackpressure(), SLOW_CHECK_MS);

  const sealTimer = rows ? setInterval(() => rows.seal(), config.batchMs) : null;
  const sampleTimer = rows ? setInterval(() => storing.sampleBookTops(), config.bookSampleMs) : null;
  log.info("bridge listening", {
    port: server.port,
    metricsPort: metricsServer?.port ?? null,
    database: Boolean(sink),
    spool: sink ? config.spoolDir : null,
  });

  let closed: Promise<void> | null = null;
  const close = async () => {
    if (sealTimer) clearInterval(sealTimer);
    if (sampleTimer) clearInterval(sampleTimer);
    clearInterval(slowTimer);
    publisher.flush();
    server.stop(true);
    metricsServer?.stop(true);
    storing.sampleBookTops();
    rows?.seal();
    await writer?.close(config.shutdownMs);
    await dbProbe?.close?.();
  };
  return {
    onFrame: router.onFrame,
    server,
    port: server.port ?? config.port,
    metricsPort: metricsServer?.port ?? null,
    metrics,
    hub,
    router,
    dbOnFrame: dbRouter ? dbRouter.onFrame : null,
    dbPositions: sink instanceof PostgresSink ? () => sink.positions() : null,
    writer,
    sealRows: () => rows?.seal(),
    close: () => (closed ??= close()),
    [Symbol.asyncDispose]: () => (closed ??= close()),
  };
}
