// createMarket: the reactive state of the Markets page for one symbol across the chosen exchanges: candle
// series (history + live, reseamed after a reconnect), ladders, BBOs and the tape. Stores are the plain
// make* primitives; one `version` signal per frame tells the components to re-read them.
import { createSignal, onCleanup } from "solid-js";
import type { ExchangeName } from "../../../schema/frame.ts";
import type { InstrumentInfo } from "../app/instruments.ts";
import { createReconnectHook, createStreamListener, createSubscription } from "../app/stream.ts";
import { api, call, errorText } from "../lib/api.ts";
import type { BboMessage, TradeMessage } from "../lib/messages.ts";
import { type CandleSeries, intervalMs, makeCandleSeries } from "./candles.ts";
import { type Ladder, makeLadder } from "./ladder.ts";
import { makeTape } from "./tape.ts";

export interface ExchangeMarket {
  exchange: ExchangeName;
  series: CandleSeries;
  ladder: Ladder;
  bbo: BboMessage | null;
  lastTrade: TradeMessage | null;
  historyError: string | null;
  loading: boolean;
}

/** ns since the epoch (19-digit text) → RFC 3339 with microseconds, exact. */
export function nsToIso(ns: string): string {
  const iso = new Date(Number(ns.slice(0, -6))).toISOString();
  return `${iso.slice(0, -1)}${ns.slice(-6, -3)}Z`;
}

const HISTORY_BARS = 300;

export function createMarket(inst: InstrumentInfo, exchanges: ExchangeName[], interval: string) {
  const step = intervalMs(interval) ?? 60_000;
  const [version, setVersion] = createSignal(0);
  const tape = makeTape(60);
  const markets = new Map<ExchangeName, ExchangeMarket>();
  let disposed = false;
  onCleanup(() => {
    disposed = true;
  });
  for (const exchange of exchanges) {
    markets.set(exchange, {
      exchange,
      series: makeCandleSeries({
        intervalMs: step,
        priceDecimals: inst.priceDecimals,
        sizeDecimals: inst.sizeDecimals,
      }),
      ladder: makeLadder(inst.priceDecimals, inst.sizeDecimals),
      bbo: null,
      lastTrade: null,
      historyError: null,
      loading: false,
    });
  }

  const bump = () => setVersion((v) => v + 1);

  async function loadHistory(m: ExchangeMarket, cutoff: string | null): Promise<void> {
    m.loading = true;
    try {
      if (cutoff) {
        // The bridge stores trades in arrival order: once the first live trade is stored, all before it are.
        const deadline = Date.now() + 8000;
        for (;;) {
          const r = await call(
            api.market.trades.get({
              query: { symbol: inst.symbol, exchange: m.exchange, from: nsToIso(cutoff), limit: 1 },
            }),
          );
          if (r.items.length > 0 || Date.now() > deadline || disposed) break;
          await new Promise((res) => setTimeout(res, 250));
        }
      }
      const to = cutoff ? nsToIso(cutoff) : undefined;
      const from = new Date((Math.floor(Date.now() / step) - HISTORY_BARS) * step).toISOString();
      const r = await call(
        api.market.candles.get({
          query: {
            symbol: inst.symbol,
            exchange: m.exchange,
            interval,
            from,
            ...(to ? { to } : {}),
            limit: 5000,
          },
        }),
      );
      if (disposed) return;
      m.series.loadHistory(r.candles, cutoff);
      m.historyError = null;
    } catch (e) {
      m.historyError = errorText(e);
    } finally {
      m.loading = false;
      bump();
    }
  }

  // History without a seam first (something to look at), then the exact seam once a live trade arrives.
  for (const m of markets.values()) void loadHistory(m, null);

  const subscribe = createSubscription();
  subscribe([{ op: "subscribe", exchanges, symbols: [inst.symbol], kinds: ["trade", "book", "bbo"] }]);

  createReconnectHook(() => {
    for (const m of markets.values()) m.series.resync();
  });

  createStreamListener((messages) => {
    let touched = false;
    const trades: TradeMessage[] = [];
    for (const msg of messages) {
      if (msg.type !== "trade" && msg.type !== "book" && msg.type !== "bbo" && msg.type !== "status")
        continue;
      if (msg.symbol !== inst.symbol) continue;
      const m = markets.get(msg.exchange);
      if (!m) continue;
      touched = true;
      if (msg.type === "trade") {
        m.series.addTrade(msg);
        m.lastTrade = msg;
        trades.push(msg);
      } else if (msg.type === "book") m.ladder.applyBook(msg);
      else if (msg.type === "bbo") m.bbo = msg;
      else m.ladder.applyStatus(msg);
    }
    tape.add(trades);
    for (const m of markets.values()) {
      if (!m.series.live && !m.loading && m.series.cutoff !== null) void loadHistory(m, m.series.cutoff);
    }
    if (touched) bump();
  });

  return { version, markets, tape, inst, interval, step };
}

export type Market = ReturnType<typeof createMarket>;
