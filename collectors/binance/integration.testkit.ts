// Integration test support: the simulator, a collector process loop (in process) and a relay stand-in on a
// unique Unix socket; helpers to read the frames that came out.
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FrameFields, Kind, type Status } from "../../schema/frame.ts";
import { type SimOptions, type Simulator, startSimulator } from "../../sim/index.ts";
import { type RunningCollector, startCollector } from "../core/collector.ts";
import type { StaleOptions } from "../core/stale.ts";
import { type FrameListener, listenForFrames } from "../core/testing.testkit.ts";
import { binanceVenue } from "./index.ts";

/** Default registry ids of the Binance symbols (schema/instruments.ts). */
export const BTC = 4;
export const ETH = 5;
export const SOL = 6;
export const SHIB = 8;
export const ALL = [BTC, ETH, SOL, SHIB];

export interface Harness extends AsyncDisposable {
  sim: Simulator;
  relay: FrameListener;
  collector: RunningCollector;
  /** Sum of a metric's samples whose label text contains `labels`. */
  metric(name: string, labels?: string): number;
  stop(): Promise<void>;
}

let counter = 0;

export async function startHarness(
  options: {
    env?: Record<string, string>;
    sim?: SimOptions;
    stale?: StaleOptions;
    beforeStart?: (sim: Simulator) => void;
  } = {},
): Promise<Harness> {
  const sim = await startSimulator({ port: 0, seed: 7, eventsPerSecond: 20, ...options.sim });
  const socketPath = join(tmpdir(), `tw-binance-${process.pid}-${++counter}.sock`);
  rmSync(socketPath, { force: true });
  const relay = listenForFrames(socketPath);
  options.beforeStart?.(sim);
  const collector = await startCollector({
    exchange: "binance",
    factory: binanceVenue,
    env: {
      BINANCE_WS_URL: sim.urls.binanceWs,
      BINANCE_REST_URL: sim.urls.binanceRest,
      BINANCE_DEPTH_LIMIT: "100",
      ...options.env,
    },
    relayPath: socketPath,
    stale: options.stale,
  });
  const metric = (name: string, labels = "") => {
    let total = 0;
    for (const line of collector.ctx.metrics.registry.render().split("\n")) {
      if (!line.startsWith(`tapewire_${name}{`) || !line.includes(labels)) continue;
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return total;
  };
  const stop = async () => {
    await collector.stop();
    relay.close();
    await sim.stop();
    rmSync(socketPath, { force: true });
  };
  return { sim, relay, collector, metric, stop, [Symbol.asyncDispose]: stop };
}

export const statusCode = (f: FrameFields): number => (f.kind === Kind.Status ? f.flags >> 4 : -1);
export const isStatus = (f: FrameFields, code: Status, instrument?: number): boolean =>
  statusCode(f) === code && (instrument === undefined || f.instrument === instrument);
/** Index of the first frame at or after `from` matching, or -1. */
export const findFrom = (frames: FrameFields[], from: number, pred: (f: FrameFields) => boolean): number => {
  for (let i = from; i < frames.length; i++) if (pred(frames[i]!)) return i;
  return -1;
};
export const tradesOf = (frames: FrameFields[], instrument: number): FrameFields[] =>
  frames.filter((f) => f.kind === Kind.Trade && f.instrument === instrument);

/** Per-instrument books rebuilt from BookLevel frames, as a consumer would. */
export class ConsumerBooks {
  readonly bids = new Map<number, Map<number, number>>();
  readonly asks = new Map<number, Map<number, number>>();

  apply(f: FrameFields, flagBegin: number, flagAsk: number): void {
    let bids = this.bids.get(f.instrument);
    let asks = this.asks.get(f.instrument);
    if (!bids || !asks) {
      bids = new Map();
      asks = new Map();
      this.bids.set(f.instrument, bids);
      this.asks.set(f.instrument, asks);
    }
    if (f.flags & flagBegin) {
      bids.clear();
      asks.clear();
    }
    const side = f.flags & flagAsk ? asks : bids;
    if (f.size === 0) side.delete(f.price);
    else side.set(f.price, f.size);
  }

  top(instrument: number): { bid: number; bidSize: number; ask: number; askSize: number } {
    const bids = this.bids.get(instrument) ?? new Map<number, number>();
    const asks = this.asks.get(instrument) ?? new Map<number, number>();
    const bid = bids.size ? Math.max(...bids.keys()) : 0;
    const ask = asks.size ? Math.min(...asks.keys()) : 0;
    return { bid, bidSize: bids.get(bid) ?? 0, ask, askSize: asks.get(ask) ?? 0 };
  }
}
