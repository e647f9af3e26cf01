// Builds a bridge from its config: topic table, WebSocket hub and server, frame router, database writer and the
// timers (batch seal, BBO sampling). The relay connection is the caller's (main.ts), so tests and benchmarks
// can feed frames straight into onFrame.
import type { Server } from "bun";
import { createLogger, type Logger } from "../lib/log.ts";
import { serveMetrics } from "../lib/metrics.ts";
import { type InstrumentRegistry, loadRegistry } from "../schema/instruments.ts";
import { type ClientData, ClientHub } from "./clients.ts";
import type { BridgeConfig } from "./config.ts";
import { BridgeMetrics } from "./metrics.ts";
import { Publisher } from "./publisher.ts";
import { FrameRouter } from "./router.ts";
import { RowEncoder } from "./rows.ts";
import { startWsServer } from "./server.ts";
import { PostgresSink } from "./sink/postgres.ts";
import { Spool } from "./sink/spool.ts";
import type { BatchSink } from "./sink/types.ts";
import { BatchWriter } from "./sink/writer.ts";
import { TopicTable } from "./topics.ts";

export interface BridgeDeps {
  config: BridgeConfig;
  registry?: InstrumentRegistry;
  log?: Logger;
  metrics?: BridgeMetrics;
  /** Overrides the Postgres sink built from config.databaseUrl. */
  sink?: BatchSink;
  authorize?: (token: string) => Promise<boolean>;
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
  readonly writer: BatchWriter | null;
  /** Hand partly filled row batches to the writer now (normally done every batchMs). */
  sealRows(): void;
  /** Stop serving, store what is pending (or spool it), close the database connection. */
  close(): Promise<void>;
}

export async function startBridge(deps: BridgeDeps): Promise<Bridge> {
  const config = deps.config;
  const log = deps.log ?? createLogger({ process: "bridge" });
  const registry = deps.registry ?? loadRegistry();
  const metrics = deps.metrics ?? new BridgeMetrics();
  const table = new TopicTable(registry, { kraken: config.krakenBookDepth, other: config.bookDepth });
  const hub = new ClientHub(table, registry, config, metrics, log);
  const publisher = new Publisher(metrics, hub.checkBackpressure);

  let writer: BatchWriter | null = null;
  let rows: RowEncoder | null = null;
  const sink = deps.sink ?? (config.databaseUrl ? new PostgresSink(config.databaseUrl) : null);
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

  const router = new FrameRouter(table, publisher, rows, metrics, log);
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
  });
  publisher.target = server;
  const metricsServer = config.metricsPort >= 0 ? serveMetrics(metrics.registry, config.metricsPort) : null;

  const sealTimer = rows ? setInterval(() => rows.seal(), config.batchMs) : null;
  const sampleTimer = rows ? setInterval(() => router.sampleBookTops(), config.bookSampleMs) : null;
  log.info("bridge listening", {
    port: server.port,
    metricsPort: metricsServer?.port ?? null,
    database: Boolean(sink),
    spool: sink ? config.spoolDir : null,
  });

  return {
    onFrame: router.onFrame,
    server,
    port: server.port ?? config.port,
    metricsPort: metricsServer?.port ?? null,
    metrics,
    hub,
    router,
    writer,
    sealRows: () => rows?.seal(),
    async close() {
      if (sealTimer) clearInterval(sealTimer);
      if (sampleTimer) clearInterval(sampleTimer);
      publisher.flush();
      server.stop(true);
      metricsServer?.stop(true);
      router.sampleBookTops();
      rows?.seal();
      await writer?.close(config.shutdownMs);
    },
  };
}
