// The relay process core: ingest socket (collectors) → Ingest (validate, sequence) → Fanout (per-consumer rings)
// → consumer socket. Everything runs on one event loop; nothing here waits on a consumer.
import type { Server, Socket, SocketListener } from "bun";
import { createLogger, type Logger } from "../lib/log.ts";
import { serveMetrics } from "../lib/metrics.ts";
import { EXCHANGE_NAMES, FRAME_SIZE } from "../schema/frame.ts";
import { AckSender } from "./ack.ts";
import type { RelayConfig } from "./config.ts";
import { DrainReader } from "./drainread.ts";
import { ConsumerConn, Fanout } from "./fanout.ts";
import { ExchangeFeeders, INGEST_KIND_NAMES } from "./feeders.ts";
import { Ingest, IngestConnection } from "./ingest.ts";
import { Journal } from "./journal/journal.ts";
import { newSeqState } from "./journal/record.ts";
import { RelayMetrics } from "./metrics.ts";
import { listenPassthrough } from "./passthrough.ts";
import { claimSocketPath, ensurePrivateDir, removeSocketFile } from "./sockets.ts";
import { HopTrace } from "./trace.ts";

/** A collector read at least this large means it is ahead of the relay: read on from its socket (DrainReader). */
const DRAIN_AFTER = 64 * 1024;
/** Reads of one collector socket per data callback beyond Bun's own, at most. */
const DRAIN_READS = 8;

export interface Relay {
  readonly config: RelayConfig;
  readonly metrics: RelayMetrics;
  /** The /metrics server's port, or -1 when disabled. */
  readonly metricsPort: number;
  readonly consumers: readonly ConsumerConn[];
  readonly collectors: number;
  /** The journal, or null when TAPEWIRE_JOURNAL=false. */
  readonly journal: Journal | null;
  /** Close both sockets and every connection, unlink the socket files. */
  stop(): void;
}

export async function startRelay(
  config: RelayConfig,
  log: Logger = createLogger({ service: "relay" }),
): Promise<Relay> {
  for (const path of [config.inPath, config.outPath]) {
    ensurePrivateDir(path);
    if (await claimSocketPath(path)) log.warn("removed stale socket file left by a previous relay", { path });
  }
  const consumers: ConsumerConn[] = [];
  const state = newSeqState();
  // Opened before any socket: a torn tail is cut and the sequence state restored before the first frame.
  const journal = config.journal
    ? new Journal(
        {
          dir: config.journalDir,
          segmentBytes: config.segmentBytes,
          segmentMs: config.segmentMs,
          fsyncMs: config.fsyncMs,
          flushMs: config.ackMs,
          retentionMs: config.retentionMs,
          retentionBytes: config.retentionBytes,
          requireArchive: config.requireArchive,
          direct: config.journalDirect,
        },
        state,
        log,
      )
    : null;
  const metrics = new RelayMetrics(
    () => consumers,
    undefined,
    () => journal,
  );
  const fanout = new Fanout(
    metrics,
    log,
    config.slowGraceMs,
    consumers,
    config.socketBufferBytes,
    config.multiwrite,
  );
  metrics.registry.gauge(
    "relay_multiwrite_submits",
    "io_submit calls of the fan-out (a counter; 0 with TAPEWIRE_RELAY_MULTIWRITE=false or where Linux AIO is unavailable)",
    (g) => g.labels().set(fanout.submits),
  );
  fanout.journal = journal;
  const drain = DrainReader.create();
  metrics.registry.gauge(
    "relay_ingest_drain_reads",
    "collector socket reads made by the relay itself into its reused buffer after a large read (a counter; 0 where unsupported)",
    (g) => g.labels().set(drain?.reads ?? 0),
  );
  const feeders = new ExchangeFeeders(metrics, log);
  const ingest = new Ingest(metrics, log, config.latencySampleEvery, state, feeders);
  const collectorSockets = new Map<Socket<IngestConnection | undefined>, IngestConnection>();
  // The kind feeding an exchange let go: end the other kind's connections refused for it, so their senders
  // reconnect and resend what they hold (nothing was acknowledged), and the exchange goes to them.
  feeders.onRelease = (ex, kind) => {
    for (const [socket, conn] of collectorSockets) {
      if (conn.refusedFor !== ex) continue;
      log.warn("exchange released; ending a refused connection so it resends", {
        exchange: EXCHANGE_NAMES[ex],
        releasedBy: INGEST_KIND_NAMES[kind],
        connection: conn.id,
        refused: conn.conflicts,
      });
      conn.refusedFor = 0;
      socket.end();
    }
  };
  const acks = new AckSender();
  const ack = (committed: number) => {
    const before = acks.sent;
    acks.ackAll(collectorSockets, committed);
    if (acks.sent > before) metrics.acksSent.inc(acks.sent - before);
  };
  let ackTimer: ReturnType<typeof setInterval> | null = null;
  if (journal) {
    journal.onCommit = ack;
    journal.start();
  } else {
    ackTimer = setInterval(() => ack(Number.POSITIVE_INFINITY), config.ackMs);
  }
  // TAPEWIRE_RELAY_TRACE: per-read hop times for bench/relay-bench-hops.ts (relay/trace.ts); off = null.
  const trace = config.traceFile === "" ? null : new HopTrace(config.traceFile);
  fanout.trace = trace;
  /** Journal first (a copy into its pending buffer), then fan-out: a resuming consumer's seam is exact. */
  const pass = (batch: ReturnType<Ingest["read"]>) => {
    journal?.append(batch.src, batch.srcStart, batch.length);
    if (trace !== null) trace.journaled();
    fanout.distribute(batch);
  };
  // relay_fanout_us: read → every consumer written, on 1 read in latencySampleEvery.
  const sampleMask = config.latencySampleEvery - 1;
  let reads = 0;
  /** A read added nothing to the journal: ack it now if everything journaled is committed. */
  const ackIdle = () => {
    if (journal !== null && journal.committed >= journal.head) ack(journal.committed);
  };
  /** One read of a collector connection: bytes [0, length) of `chunk`, valid only during the call. */
  const take = (conn: IngestConnection, chunk: Uint8Array, length: number) => {
    if (trace !== null) {
      const skip = (FRAME_SIZE - conn.carried) % FRAME_SIZE;
      const view = new DataView(chunk.buffer, chunk.byteOffset, length);
      trace.read(view, skip, Math.max(0, Math.floor((length - skip) / FRAME_SIZE)));
    }
    if ((++reads & sampleMask) === 0) {
      const t0 = performance.now();
      pass(ingest.read(conn, chunk, length));
      metrics.fanoutUs.observe((performance.now() - t0) * 1000);
    } else {
      pass(ingest.read(conn, chunk, length));
    }
    conn.ackSeq = conn.lastSeq;
    conn.ackPos = journal ? journal.head : 0;
    if (ingest.batch.length === 0) ackIdle(); // duplicates only: no flush follows to carry the ack
  };
  let nextId = 1;
  let collectors = 0;

  const out: SocketListener<ConsumerConn | undefined> = Bun.listen<ConsumerConn | undefined>({
    unix: config.outPath,
    socket: {
      open(socket) {
        const c = new ConsumerConn(nextId++, socket, config.consumerQueueBytes);
        socket.data = c;
        fanout.add(c);
      },
      data(socket, data) {
        if (socket.data) fanout.onData(socket.data, data);
      },
      drain(socket) {
        if (socket.data) fanout.onDrain(socket.data);
      },
      close(socket, error) {
        if (socket.data) fanout.remove(socket.data, error ? error.message : "closed");
      },
      error(socket, error) {
        metrics.socketErrors.inc();
        log.limited("error", "consumer-error", "consumer socket error", { consumer: socket.data?.id, error });
      },
    },
  });

  const inbound: SocketListener<IngestConnection | undefined> = Bun.listen<IngestConnection | undefined>({
    unix: config.inPath,
    socket: {
      open(socket) {
        socket.data = new IngestConnection(nextId++);
        collectorSockets.set(socket, socket.data);
        collectors++;
        metrics.collectorsConnected.set(collectors);
        log.info("collector connected", { connection: socket.data.id });
      },
      data(socket, data) {
        const conn = socket.data!;
        take(conn, data, data.byteLength);
        // A large read: the collector is ahead, and its socket has likely filled again while this one was
        // handled. Read on from it into the reused buffer (relay/drainread.ts) instead of one fresh buffer
        // per read from Bun; a few reads at most, so the event loop still turns (drains, timers, acks).
        if (drain === null || data.byteLength < DRAIN_AFTER) return;
        const fd = (socket as { fd?: number }).fd;
        if (typeof fd !== "number" || fd < 0) return;
        for (let i = 0; i < DRAIN_READS; i++) {
          const n = drain.recv(fd);
          if (n === 0) break;
          take(conn, drain.buf, n);
          if (n < DRAIN_AFTER) break; // it has caught up with the collector: back to the event loop
        }
      },
      drain(socket) {
        if (socket.data) acks.drain(socket, socket.data);
      },
      close(socket, error) {
        const conn = socket.data!;
        collectorSockets.delete(socket);
        collectors--;
        metrics.collectorsConnected.set(collectors);
        log.info("collector connection closed", {
          connection: conn.id,
          frames: conn.frames,
          error: error?.message,
        });
        pass(ingest.closed(conn));
      },
      error(socket, error) {
        metrics.socketErrors.inc();
        log.limited("error", "collector-error", "collector socket error", {
          connection: socket.data?.id,
          error,
        });
      },
    },
  });

  // An importing relay (issue 13): frames from the link keep the exporting relay's seq (relay/passthrough.ts).
  const passthrough = config.passthroughPath
    ? await listenPassthrough(config.passthroughPath, {
        metrics,
        log,
        state,
        feeders,
        pass,
        ackTargets: collectorSockets,
        head: () => (journal ? journal.head : 0),
        drain: (socket, conn) => acks.drain(socket, conn),
        ackIdle,
      })
    : null;

  let metricsServer: Server<undefined> | null = null;
  if (config.metricsPort >= 0) metricsServer = serveMetrics(metrics.registry, config.metricsPort);
  log.info("relay listening", {
    in: config.inPath,
    out: config.outPath,
    consumerQueueBytes: config.consumerQueueBytes,
    multiwrite: fanout.multiwrite,
    metricsPort: metricsServer?.port ?? -1,
  });

  let stopped = false;
  return {
    config,
    metrics,
    metricsPort: metricsServer?.port ?? -1,
    consumers: fanout.consumers,
    journal,
    get collectors() {
      return collectors;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      inbound.stop(true);
      out.stop(true);
      fanout.close();
      passthrough?.stop();
      metricsServer?.stop(true);
      if (ackTimer) clearInterval(ackTimer);
      journal?.close();
      trace?.save();
      for (const path of [config.inPath, config.outPath]) {
        const error = removeSocketFile(path);
        if (error) log.error("could not remove socket file", { path, error });
      }
      log.info("relay stopped");
    },
  };
}
