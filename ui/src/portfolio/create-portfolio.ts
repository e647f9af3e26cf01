// createPortfolio: one portfolio's orders, fills and positions from the API (reloaded after each action and
// every few seconds, since resting limit orders fill on the server), with positions marked live from trades.
import { createSignal, onCleanup } from "solid-js";
import type { ExchangeName } from "../../../schema/frame.ts";
import { createStreamListener, createSubscription } from "../app/stream.ts";
import { api, call, errorText } from "../lib/api.ts";
import { markKey, markPositions, type PositionIn } from "./pnl.ts";

type Orders = Awaited<ReturnType<typeof loadOrders>>;
type Fills = Awaited<ReturnType<typeof loadFills>>;

const loadOrders = (id: string) =>
  call(api.portfolios({ portfolioId: id }).orders.get({ query: { status: "open", limit: 100 } }));
const loadFills = (id: string) =>
  call(api.portfolios({ portfolioId: id }).fills.get({ query: { limit: 50 } }));
const loadPositions = (id: string) => call(api.portfolios({ portfolioId: id }).positions.get());
const loadCash = (id: string) => call(api.portfolios({ portfolioId: id }).cash.get());

export function createPortfolio(portfolioId: string) {
  const [orders, setOrders] = createSignal<Orders["items"]>([]);
  const [fills, setFills] = createSignal<Fills["items"]>([]);
  const [positions, setPositions] = createSignal<PositionIn[]>([]);
  const [marks, setMarks] = createSignal<ReadonlyMap<string, string>>(new Map());
  const [cash, setCash] = createSignal<ReadonlyMap<string, string>>(new Map());
  const [error, setError] = createSignal<string | null>(null);
  const subscribe = createSubscription();
  let subscribedKey = "";

  async function reload(): Promise<void> {
    try {
      const [o, f, p, c] = await Promise.all([
        loadOrders(portfolioId),
        loadFills(portfolioId),
        loadPositions(portfolioId),
        loadCash(portfolioId),
      ]);
      setCash(new Map(c.map((x: { currency: string; balance: string }) => [x.currency, x.balance])));
      setOrders(o.items);
      setFills(f.items);
      setPositions(p);
      setError(null);
      const wanted = [...new Set(p.map((x) => `${x.exchange}|${x.symbol}`))].sort();
      const key = wanted.join(",");
      if (key !== subscribedKey) {
        subscribedKey = key;
        subscribe(
          wanted.map((w) => {
            const [exchange, symbol] = w.split("|") as [ExchangeName, string];
            return {
              op: "subscribe" as const,
              exchanges: [exchange],
              symbols: [symbol],
              kinds: ["trade" as const],
            };
          }),
        );
      }
    } catch (e) {
      setError(errorText(e));
    }
  }

  createStreamListener((messages) => {
    let next: Map<string, string> | null = null;
    for (const m of messages) {
      if (m.type !== "trade") continue;
      const k = markKey(m.exchange, m.symbol);
      if (!subscribedKey.includes(k)) continue;
      next ??= new Map(marks());
      next.set(k, m.price);
    }
    if (next) setMarks(next);
  });

  const timer = setInterval(() => void reload(), 3000);
  onCleanup(() => clearInterval(timer));
  void reload();

  return {
    orders,
    fills,
    error,
    reload,
    marked: () => markPositions(positions(), marks(), cash()),
    async cancel(orderId: string): Promise<void> {
      try {
        await call(api.portfolios({ portfolioId }).orders({ orderId }).delete());
      } catch (e) {
        setError(errorText(e));
      }
      await reload();
    },
  };
}

export type PortfolioStore = ReturnType<typeof createPortfolio>;
