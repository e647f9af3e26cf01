// One collector process: a venue adapter on the shared feed, frames to the relay, metrics, record/replay.
import { createLogger } from "../../lib/log.ts";
import { serveMetrics } from "../../lib/metrics.ts";
import { collectorJetStreamSink } from "../../link/collector-sink.ts";
import { type ExchangeName, Status } from "../../schema/frame.ts";
import { type InstrumentRegistry, loadRegistry } from "../../schema/instruments.ts";
import { Backfill, statePathFor } from "./backfill.ts";
import { type CollectorContext, createCollectorContext } from "./context.ts";
import { ExchangeFeed } from "./feed.ts";
import { CollectorMetrics } from "./metrics.ts";
import { Recorder, readRecording } from "./record.ts";
import { RelaySink } from "./sink.ts";
import type { StaleOptions } from "./stale.ts";
import type { VenueFactory } from "./types.ts";

export interface CollectorOptions {
  exchange: ExchangeName;
  factory: VenueFactory;
  env: Record<string, string | undefined>;
  registry?: InstrumentRegistry;
  relayPath: string;
  /** Publish to NATS JetStream instead of the relay socket (link/collector-sink.ts). */
  natsUrl?: string;
  /** Port for /metrics; 0 picks a free one; undefined serves none. */
  metricsPort?: number;
  recordPath?: string;
  /** Play a recording through the adapter instead of connecting to the exchange. */
  replayPath?: string;
  /** Replay pacing: 0 = as fast as possible, 1 = real time. */
  replaySpeed?: number;
  stale?: StaleOptions;
  bufferFrames?: number;
  /** Where the last trade id per symbol is kept across restarts (undefined: not kept). */
  stateDir?: string;
  /** Fill trade-id gaps from the exchange's REST history (default: when the venue has one). */
  backfill?: boolean;
}

export interface RunningCollector extends AsyncDisposable {
  ctx: CollectorContext;
  metricsPort: number | undefined;
  backfill: Backfill | undefined;
  /** Resolves when a replay has been played through (immediately for live feeds). */
  replayed: Promise<void>;
  stop(): Promise<void>;
}

export async function startCollector(opts: CollectorOptions): Promise<RunningCollector> {
  const log = createLogger({ process: `collector-${opts.exchange}` });
  const registry = opts.registry ?? loadRegistry(opts.env);
  const metrics = new CollectorMetrics(opts.exchange);
  const sinkOptions = {
    capacityFrames: opts.bufferFrames ?? 262_144,
    log,
    onConnected: (up: boolean) => metrics.relayConnected.set({ exchange: opts.exchange }, up ? 1 : 0),
  };
  const sink = opts.natsUrl
    ? collectorJetStreamSink(opts.natsUrl, opts.env, sinkOptions)
    : new RelaySink({ path: opts.relayPath, ...sinkOptions });
  const adapter = opts.factory({ registry, env: opts.env });
  const ctx = createCollectorContext({
    exchange: opts.exchange,
    registry,
    output: sink,
    resyncsPerMinute: adapter.resyncsPerMinute,
    stale: opts.stale,
    metrics,
    log,
  });
  // Sequence 0 of every run: the relay sees a restart, not a gap.
  ctx.emitter.status(Status.CollectorStart, 0, process.pid, Date.now());
  const backfill =
    adapter.history && opts.backfill !== false && !opts.replayPath
      ? new Backfill(ctx, adapter.history, opts.stateDir && statePathFor(opts.stateDir, opts.exchange))
      : undefined;

  metrics.registry.gauge(
    "collector_symbol_age_seconds",
    "Seconds since each symbol last updated",
    (gauge) => {
      gauge.reset();
      for (const [instrument, age] of ctx.staleTracker.ages(Date.now())) {
        gauge.set(
          { exchange: opts.exchange, symbol: registry.byId(instrument)?.symbol ?? String(instrument) },
          age,
        );
      }
      metrics.bufferedFrames.set({ exchange: opts.exchange }, sink.buffered);
    },
  );
  const server =
    opts.metricsPort === undefined ? undefined : serveMetrics(metrics.registry, opts.metricsPort);

  const recorder = opts.recordPath ? new Recorder(opts.recordPath) : undefined;
  const feed = new ExchangeFeed(adapter, ctx, { onRaw: recorder ? (t) => recorder.write(t) : undefined });
  let replayed = Promise.resolve();
  if (opts.replayPath) {
    adapter.onOpen?.(ctx);
    replayed = replay(opts.replayPath, opts.replaySpeed ?? 0, feed, ctx);
  } else feed.start();
  log.info("collector started", {
    relay: opts.natsUrl ?? opts.relayPath,
    metricsPort: server?.port,
    replay: opts.replayPath,
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      feed.stop();
      backfill?.stop();
      ctx.resyncs.stop();
      recorder?.close();
      await sink.close();
      server?.stop(true);
    })();
    return stopped;
  };
  return { ctx, metricsPort: server?.port, backfill, replayed, stop, [Symbol.asyncDispose]: stop };
}

async function replay(path: string, speed: number, feed: ExchangeFeed, ctx: CollectorContext): Promise<void> {
  let first: bigint | undefined;
  const started = performance.now();
  for await (const record of readRecording(path)) {
    if ("error" in record) {
      ctx.metrics.parseError("bad_recording_line");
      ctx.log.limited("warn", "bad_recording_line", "skipping a bad recording line", record);
      continue;
    }
    if (speed > 0) {
      first ??= record.ts;
      const due = Number(record.ts - first) / 1e6 / speed;
      const wait = due - (performance.now() - started);
      if (wait > 1) await Bun.sleep(wait);
    }
    ctx.emitter.markReceived();
    feed.handle(record.msg);
  }
  ctx.log.info("replay finished", { path });
}
