// makeCandleSeries: OHLCV buckets from the API's history plus live trades, exact (integer mantissas), with a
// seam that neither misses nor double counts a trade.
//
// The seam: live trades are buffered from subscription on. The first one's event time becomes the cutoff;
// history is then read with `to = cutoff` (exclusive), so it holds exactly the trades before it, and every
// live trade at or after the cutoff is added here. Trades before the cutoff that arrive live were counted
// by the history and are skipped. Event time = tsExchange, or tsRecv when the exchange gave none (the
// bridge stores the same time, bridge/rows.ts).
import { parseFixed } from "../../../schema/decimal.ts";
import type { TradeMessage } from "../lib/messages.ts";

export interface Candle {
  /** Bucket start, ms since the epoch (aligned to the epoch like the API's). */
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Sum of size mantissas (BigInt: a day of small-unit trades can pass 2^53). */
  volume: bigint;
  trades: number;
}

export interface HistoryCandle {
  time: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  trades: number;
}

export interface CandleSeriesOptions {
  intervalMs: number;
  priceDecimals: number;
  sizeDecimals: number;
  /** Live trades kept while history is loading (beyond: the oldest go, and the seam is redone). */
  maxBuffered?: number;
}

/** Event time in ns as a 19-digit string (compared as text: same length, so order is numeric). */
export const tradeTime = (t: TradeMessage): string => t.tsExchange ?? t.tsRecv ?? NO_TIME;
const NO_TIME = "0000000000000000000";
const nsToMs = (ns: string): number => Number(ns.slice(0, -6));

/** "1m" → 60000; null for anything the API would refuse. */
export function intervalMs(text: string): number | null {
  const m = /^([1-9][0-9]{0,4})([smhd])$/.exec(text);
  if (!m) return null;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

/** Exact text → BigInt mantissa at `decimals` (history volume is a NUMERIC sum). */
export function bigMantissa(text: string, decimals: number): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`bad decimal ${JSON.stringify(text)}`);
  const frac = (match[3] ?? "").replace(/0+$/, "");
  if (frac.length > decimals) throw new Error(`${text} has more than ${decimals} decimals`);
  const m = BigInt(match[2]! + frac.padEnd(decimals, "0"));
  return match[1] ? -m : m;
}

function price(text: string, decimals: number): number {
  const m = parseFixed(text, decimals);
  if (!Number.isSafeInteger(m)) throw new Error(`price ${JSON.stringify(text)} is not exact at ${decimals}`);
  return m;
}

export function makeCandleSeries(opts: CandleSeriesOptions) {
  const { intervalMs: step, priceDecimals, sizeDecimals } = opts;
  const maxBuffered = opts.maxBuffered ?? 200_000;
  const buckets = new Map<number, Candle>();
  let sorted: Candle[] | null = [];
  let buffer: TradeMessage[] = [];
  let cutoff: string | null = null;
  let live = false;
  /** Buckets touched since the last takeChanges(); `full` when a redraw is needed. */
  let changed = new Set<number>();
  let full = true;
  let skipped = 0;

  function apply(t: TradeMessage): void {
    const ms = nsToMs(tradeTime(t));
    const start = Math.floor(ms / step) * step;
    const p = price(t.price, priceDecimals);
    const size = bigMantissa(t.size, sizeDecimals);
    const c = buckets.get(start);
    if (!c) {
      buckets.set(start, { start, open: p, high: p, low: p, close: p, volume: size, trades: 1 });
      sorted = null;
    } else {
      if (p > c.high) c.high = p;
      if (p < c.low) c.low = p;
      c.close = p; // trades of one topic arrive in order: the latest is the close
      c.volume += size;
      c.trades++;
    }
    changed.add(start);
  }

  return {
    /** A live trade (already filtered to this exchange and symbol). */
    addTrade(t: TradeMessage): void {
      if (!live) {
        if (buffer.length === 0) cutoff = tradeTime(t);
        buffer.push(t);
        if (buffer.length > maxBuffered) buffer = buffer.slice(buffer.length - maxBuffered);
        cutoff = buffer.length > 0 ? tradeTime(buffer[0]!) : null;
        return;
      }
      if (tradeTime(t) < cutoff!) {
        skipped++;
        return;
      }
      apply(t);
    },
    /** The cutoff history must end at (exclusive), or null while no live trade has arrived. */
    get cutoff(): string | null {
      return cutoff;
    },
    get live(): boolean {
      return live;
    },
    /** Trades that arrived live but were already in the history. */
    get skipped(): number {
      return skipped;
    },
    /**
     * History for [.., cutoff): replaces every bucket, then the buffered live trades at or after the cutoff are
     * added. Pass the `cutoff` read before the request; null shows history alone (no live trade yet).
     */
    loadHistory(candles: readonly HistoryCandle[], at: string | null): void {
      buckets.clear();
      for (const h of candles) {
        const start = Date.parse(h.time);
        buckets.set(start, {
          start,
          open: price(h.open, priceDecimals),
          high: price(h.high, priceDecimals),
          low: price(h.low, priceDecimals),
          close: price(h.close, priceDecimals),
          volume: bigMantissa(h.volume, sizeDecimals),
          trades: h.trades,
        });
      }
      sorted = null;
      full = true;
      changed.clear();
      if (at === null) return;
      live = true;
      cutoff = at;
      for (const t of buffer) {
        if (tradeTime(t) < at) skipped++;
        else apply(t);
      }
      buffer = [];
      changed.clear();
    },
    /** After a reconnect: buffer again until the next seam; the shown candles stay until history replaces them. */
    resync(): void {
      live = false;
      cutoff = null;
      buffer = [];
    },
    candles(): readonly Candle[] {
      if (!sorted) sorted = [...buckets.values()].sort((a, b) => a.start - b.start);
      return sorted;
    },
    /** What to draw: `full` (setData everything) or the buckets to update, oldest first. */
    takeChanges(): { full: boolean; updated: Candle[] } {
      const out = { full, updated: [...changed].sort((a, b) => a - b).map((s) => buckets.get(s)!) };
      full = false;
      changed = new Set();
      return out;
    },
  };
}

export type CandleSeries = ReturnType<typeof makeCandleSeries>;
