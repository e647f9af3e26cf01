// Builds the FeedContext a venue adapter sees, from the shared machinery. Used by the live feed and by tests.
import { createLogger, type Logger } from "../../lib/log.ts";
import { EXCHANGE_IDS, type ExchangeName, type ResyncReason } from "../../schema/frame.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";
import { type FrameOutput, StagingEmitter } from "./emitter.ts";
import { CollectorMetrics } from "./metrics.ts";
import { ResyncScheduler } from "./resync.ts";
import { type StaleOptions, StaleTracker } from "./stale.ts";
import { TradeIdTracker } from "./trades.ts";
import type { FeedContext } from "./types.ts";

export interface ContextDeps {
  exchange: ExchangeName;
  registry: InstrumentRegistry;
  output: FrameOutput;
  resyncsPerMinute: number;
  stale?: StaleOptions;
  metrics?: CollectorMetrics;
  log?: Logger;
  /** The live feed plugs its socket in here. */
  send?: (text: string) => boolean;
  reconnect?: (reason: string) => void;
  resyncJitterMs?: [number, number];
}

export interface CollectorContext extends FeedContext {
  readonly emitter: StagingEmitter;
  readonly staleTracker: StaleTracker;
  readonly trades: TradeIdTracker;
  readonly resyncs: ResyncScheduler;
  setTransport(send: (text: string) => boolean, reconnect: (reason: string) => void): void;
}

export const DEFAULT_STALE: StaleOptions = { factor: 20, minMs: 5_000, maxMs: 300_000 };

export function createCollectorContext(deps: ContextDeps): CollectorContext {
  const metrics = deps.metrics ?? new CollectorMetrics(deps.exchange);
  const log = deps.log ?? createLogger({ process: `collector-${deps.exchange}` });
  const emitter = new StagingEmitter(EXCHANGE_IDS[deps.exchange], deps.output, metrics);
  const staleTracker = new StaleTracker(emitter, deps.stale ?? DEFAULT_STALE);
  const trades = new TradeIdTracker(emitter, metrics);
  const resyncs = new ResyncScheduler(deps.resyncsPerMinute, emitter, metrics, log, deps.resyncJitterMs);
  let send = deps.send ?? (() => false);
  let reconnect = deps.reconnect ?? (() => {});
  return {
    exchange: deps.exchange,
    emitter,
    registry: deps.registry,
    metrics,
    log,
    staleTracker,
    trades,
    resyncs,
    send(text: string) {
      if (!send(text)) metrics.sendsDropped.inc();
    },
    reconnect: (reason: string) => reconnect(reason),
    touch: (instrument: number) => staleTracker.touch(instrument, Date.now()),
    resync: (instrument: number, reason: ResyncReason, run: () => void | Promise<void>) =>
      resyncs.request(instrument, reason, run),
    acceptTrade: (instrument: number, tradeId: number, contiguous: boolean) =>
      trades.accept(instrument, tradeId, contiguous),
    rejectTrade: (instrument: number, tradeId: number, contiguous: boolean) =>
      trades.reject(instrument, tradeId, contiguous),
    now: () => Date.now(),
    setTransport(s, r) {
      send = s;
      reconnect = r;
    },
  };
}
