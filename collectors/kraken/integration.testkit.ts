// Test rig for the Kraken collector against the exchange simulator: sim + collector (in process, real
// WebSocket and relay socket) + a frame listener standing in for the relay, and what a consumer would
// rebuild from the frames (books truncated to the subscribed depth, per the README).
import { tmpdir } from "node:os";
import { parseFixed } from "../../schema/decimal.ts";
import { FLAG_ASK, FLAG_BEGIN, FLAG_END, type FrameFields, Kind } from "../../schema/frame.ts";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../../schema/instruments.ts";
import type { SimOptions, Simulator } from "../../sim/index.ts";
import { startSimulator } from "../../sim/index.ts";
import { type RunningCollector, startCollector } from "../core/collector.ts";
import { type FrameListener, listenForFrames } from "../core/testing.testkit.ts";
import { krakenVenue } from "./index.ts";

export const BTC = 1;
export const ETH = 2;
export const DEPTH = 10;
const registry = new InstrumentRegistry(DEFAULT_INSTRUMENTS);

export interface Rig extends AsyncDisposable {
  sim: Simulator;
  collector: RunningCollector;
  relay: FrameListener;
  stop(): Promise<void>;
}

let serial = 0;

export async function startRig(
  env: Record<string, string> = {},
  eventsPerSecond = 20,
  sim: Partial<SimOptions> = {},
): Promise<Rig> {
  const started = await startSimulator({
    port: 0,
    seed: 7,
    eventsPerSecond,
    heartbeatIntervalMs: 200,
    ...sim,
  });
  return attachRig(started, env);
}

/** A collector (and relay stand-in) on a running simulator; `stateDir` keeps trade ids across restarts. */
export async function attachRig(
  sim: Simulator,
  env: Record<string, string> = {},
  stateDir?: string,
): Promise<Rig> {
  const relayPath = `${tmpdir()}/tw-kraken-${process.pid}-${serial++}.sock`;
  const relay = listenForFrames(relayPath);
  const collector = await startCollector({
    exchange: "kraken",
    factory: krakenVenue,
    registry,
    relayPath,
    env: {
      KRAKEN_WS_URL: sim.urls.kraken,
      KRAKEN_REST_URL: sim.urls.krakenRest,
      KRAKEN_SYMBOLS: "BTC-USD,ETH-USD",
      KRAKEN_IDLE_TIMEOUT_MS: "3000",
      KRAKEN_RESYNC_TIMEOUT_MS: "2000",
      ...env,
    },
    stale: { factor: 20, minMs: 600, maxMs: 3000 },
    stateDir,
  });
  const stop = async () => {
    await collector.stop();
    relay.close();
    await sim.stop();
  };
  return { sim, collector, relay, stop, [Symbol.asyncDispose]: stop };
}

export const statusOf = (f: FrameFields) => (f.kind === Kind.Status ? f.flags >> 4 : -1);
export const isStatus = (f: FrameFields, code: number, instrument?: number) =>
  statusOf(f) === code && (instrument === undefined || f.instrument === instrument);

/** Index of the first frame matching `p` at or after `from`, or -1. */
export function indexWhere(frames: FrameFields[], p: (f: FrameFields) => boolean, from = 0): number {
  for (let i = from; i < frames.length; i++) if (p(frames[i]!)) return i;
  return -1;
}

interface ConsumerBook {
  bids: Map<number, number>;
  asks: Map<number, number>;
}

/** A consumer's books from the frames: BEGIN clears, size 0 deletes, END truncates to the depth. */
export function rebuildBooks(frames: FrameFields[]): Map<number, ConsumerBook> {
  const books = new Map<number, ConsumerBook>();
  for (const f of frames) {
    if (f.kind !== Kind.BookLevel) continue;
    let book = books.get(f.instrument);
    if (!book || f.flags & FLAG_BEGIN) {
      book = { bids: new Map(), asks: new Map() };
      books.set(f.instrument, book);
    }
    const side = f.flags & FLAG_ASK ? book.asks : book.bids;
    if (f.size === 0) side.delete(f.price);
    else side.set(f.price, f.size);
    if (f.flags & FLAG_END) {
      book.bids = new Map([...book.bids].sort((a, b) => b[0] - a[0]).slice(0, DEPTH));
      book.asks = new Map([...book.asks].sort((a, b) => a[0] - b[0]).slice(0, DEPTH));
    }
  }
  return books;
}

/** Our consumer's top of book equals the simulator's right now (mantissas at the frame's decimals). */
export function topMatches(rig: Rig, frames: FrameFields[], instrument: number): boolean {
  const inst = registry.byId(instrument)!;
  const top = rig.sim.stats().kraken.bookTop[inst.venues.kraken!.symbol];
  const book = rebuildBooks(frames).get(instrument);
  if (!top || !book || top.bid === null || top.ask === null) return false;
  const bestBid = Math.max(...book.bids.keys());
  const bestAsk = Math.min(...book.asks.keys());
  return (
    bestBid === parseFixed(top.bid, inst.priceDecimals) &&
    book.bids.get(bestBid) === parseFixed(top.bidQty!, inst.sizeDecimals) &&
    bestAsk === parseFixed(top.ask, inst.priceDecimals) &&
    book.asks.get(bestAsk) === parseFixed(top.askQty!, inst.sizeDecimals)
  );
}

/** The last BBO pair for an instrument equals the simulator's top right now. */
export function bboMatches(rig: Rig, frames: FrameFields[], instrument: number): boolean {
  const inst = registry.byId(instrument)!;
  const top = rig.sim.stats().kraken.bookTop[inst.venues.kraken!.symbol];
  let bid: FrameFields | undefined;
  let ask: FrameFields | undefined;
  for (let i = frames.length - 1; i >= 0 && !ask; i--) {
    const f = frames[i]!;
    if (f.kind === Kind.Bbo && f.instrument === instrument && f.flags & FLAG_ASK) {
      ask = f;
      bid = frames[i - 1];
    }
  }
  if (!top || !bid || !ask || top.bid === null || top.ask === null) return false;
  return (
    bid.kind === Kind.Bbo &&
    bid.price === parseFixed(top.bid, inst.priceDecimals) &&
    bid.size === parseFixed(top.bidQty!, inst.sizeDecimals) &&
    ask.price === parseFixed(top.ask, inst.priceDecimals) &&
    ask.size === parseFixed(top.askQty!, inst.sizeDecimals)
  );
}

/** Trade ids seen per instrument, with any repeats. */
export function tradeIds(frames: FrameFields[], instrument: number): { ids: number[]; repeats: number } {
  const ids: number[] = [];
  const seen = new Set<number>();
  let repeats = 0;
  for (const f of frames) {
    if (f.kind !== Kind.Trade || f.instrument !== instrument) continue;
    if (seen.has(f.id)) repeats++;
    seen.add(f.id);
    ids.push(f.id);
  }
  return { ids, repeats };
}

export function metricsText(rig: Rig): string {
  return rig.collector.ctx.metrics.registry.render();
}

export function parseErrors(rig: Rig, reason: string): number {
  let n = 0;
  for (const line of metricsText(rig).split("\n"))
    if (line.startsWith("tapewire_collector_parse_errors_total") && line.includes(`reason="${reason}"`))
      n += Number(line.split(" ").pop());
  return n;
}
