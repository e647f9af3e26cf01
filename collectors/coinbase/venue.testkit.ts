// Test support for the Coinbase venue: an adapter on an in-memory context, and builders for Advanced Trade
// messages in the shapes the fixtures show (envelope, l2_data, market_trades, ticker).
import { type FrameFields, Kind } from "../../schema/frame.ts";
import { DEFAULT_INSTRUMENTS, type Instrument, InstrumentRegistry } from "../../schema/instruments.ts";
import { createTestContext, type TestContext } from "../core/testing.testkit.ts";
import { CoinbaseAdapter } from "./adapter.ts";
import { readCoinbaseConfig } from "./config.ts";

export const TS = "2026-01-02T03:04:05.123456789Z";
export const TS_NS = 1767323045123456789n;

export interface Harness {
  t: TestContext;
  adapter: CoinbaseAdapter;
  /** Hand one message (object → JSON) to the adapter as the feed would. */
  feed(message: unknown): void;
  /** Next sequence_num on this connection. */
  seq(): number;
  frames(): FrameFields[];
  statuses(): Array<{ code: number; instrument: number; detail: number; count: number }>;
  parseErrors(): number;
}

export function harness(env: Record<string, string> = {}, extra: Instrument[] = []): Harness {
  const registry = new InstrumentRegistry([...DEFAULT_INSTRUMENTS, ...extra]);
  const t = createTestContext("coinbase", registry);
  const adapter = new CoinbaseAdapter(
    readCoinbaseConfig({ COINBASE_SENDS_PER_SECOND: "1000", ...env }),
    registry,
  );
  adapter.onOpen(t.ctx);
  let next = 0;
  return {
    t,
    adapter,
    feed(message) {
      t.ctx.emitter.markReceived();
      adapter.onMessage(typeof message === "string" ? message : JSON.stringify(message), t.ctx);
    },
    seq: () => next++,
    frames: () => t.frames(),
    statuses: () =>
      t
        .frames()
        .filter((f) => f.kind === Kind.Status)
        .map((f) => ({ code: f.flags >> 4, instrument: f.instrument, detail: f.id, count: f.price })),
    parseErrors() {
      let n = 0;
      for (const line of t.ctx.metrics.registry.render().split("\n"))
        if (line.startsWith("tapewire_collector_parse_errors_total")) n += Number(line.split(" ").pop());
      return n;
    },
  };
}

export function envelope(
  channel: string,
  seq: number,
  events: unknown[],
  timestamp = TS,
): Record<string, unknown> {
  return { channel, client_id: "", timestamp, sequence_num: seq, events };
}

export type Level = [side: string, price: string, quantity: string];

export function l2(seq: number, type: "snapshot" | "update", product: string, levels: Level[]) {
  return envelope("l2_data", seq, [
    {
      type,
      product_id: product,
      updates: levels.map(([side, price_level, new_quantity]) => ({
        side,
        event_time: TS,
        price_level,
        new_quantity,
      })),
    },
  ]);
}

export interface TradeSpec {
  id: string;
  product?: string;
  price?: string;
  size?: string;
  side?: string;
  time?: string;
}

export function trades(seq: number, type: "snapshot" | "update", list: TradeSpec[]) {
  return envelope("market_trades", seq, [
    {
      type,
      trades: list.map((t) => ({
        trade_id: t.id,
        product_id: t.product ?? "BTC-USD",
        price: t.price ?? "100.5",
        size: t.size ?? "0.1",
        side: t.side ?? "BUY",
        time: t.time ?? TS,
      })),
    },
  ]);
}

export function ticker(
  seq: number,
  product: string,
  bid: string,
  bidQty: string,
  ask: string,
  askQty: string,
) {
  return envelope("ticker", seq, [
    {
      type: "update",
      tickers: [
        {
          type: "ticker",
          product_id: product,
          price: bid,
          best_bid: bid,
          best_bid_quantity: bidQty,
          best_ask: ask,
          best_ask_quantity: askQty,
        },
      ],
    },
  ]);
}

/** Resolve once `predicate` holds, polling; rejects after timeoutMs. */
