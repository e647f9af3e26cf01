import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../lib/config.ts";
import { waitFor } from "../../lib/testing.ts";
import { FLAG_ASK, FLAG_END, Kind } from "../../schema/frame.ts";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../../schema/instruments.ts";
import { createTestContext } from "../core/testing.testkit.ts";
import { readCoinbaseConfig } from "./config.ts";
import { coinbaseVenue } from "./index.ts";
import { SendPacer } from "./pacer.ts";
import { envelope, harness, TS_NS, ticker } from "./venue.testkit.ts";

const registry = new InstrumentRegistry(DEFAULT_INSTRUMENTS);

describe("coinbase adapter", () => {
  test("subscribes heartbeats first, then one message per channel with every Coinbase product", () => {
    const adapter = coinbaseVenue({ registry, env: {} });
    const products = ["BTC-USD", "ETH-USD", "SOL-USD", "BTC-USDT", "ETH-USDT", "SOL-USDT", "SHIB-USD"];
    expect(adapter.subscribeMessages().map((m) => JSON.parse(m))).toEqual([
      { type: "subscribe", channel: "heartbeats" },
      { type: "subscribe", product_ids: products, channel: "level2" },
      { type: "subscribe", product_ids: products, channel: "market_trades" },
      { type: "subscribe", product_ids: products, channel: "ticker" },
    ]);
    expect(adapter.url()).toBe("wss://advanced-trade-ws.coinbase.com");
  });

  test("settings come from the environment and bad values name their variable", () => {
    const config = readCoinbaseConfig({
      COINBASE_WS_URL: "ws://127.0.0.1:1/x",
      COINBASE_CHANNELS: "ticker, level2",
    });
    expect(config.url).toBe("ws://127.0.0.1:1/x");
    expect(config.channels).toEqual(["level2", "ticker"]);
    expect(config.tradeSide).toBe("taker");
    expect(() => readCoinbaseConfig({ COINBASE_TRADE_SIDE: "aggressor" })).toThrow(/COINBASE_TRADE_SIDE/);
    expect(() => readCoinbaseConfig({ COINBASE_CHANNELS: "level3" })).toThrow(ConfigError);
    expect(() => readCoinbaseConfig({ COINBASE_WS_URL: "http://x" })).toThrow(/COINBASE_WS_URL/);
    expect(() => readCoinbaseConfig({ COINBASE_IDLE_TIMEOUT_MS: "-5" })).toThrow(/COINBASE_IDLE_TIMEOUT_MS/);
  });

  test("ticker → bid frame then ask frame with FLAG_ASK|FLAG_END, id = sequence_num, envelope time", () => {
    const h = harness();
    h.feed(ticker(h.seq(), "SOL-USD", "150.01", "12.5", "150.02", "3"));
    expect(h.frames().map((f) => [f.kind, f.flags, f.instrument, f.id, f.price, f.size])).toEqual([
      [Kind.Bbo, 0, 3, 0, 15001, 1250000000],
      [Kind.Bbo, FLAG_ASK | FLAG_END, 3, 0, 15002, 300000000],
    ]);
    expect(h.t.exchangeTimes()).toEqual([TS_NS, TS_NS]);
  });

  test("a ticker without best bid/ask is counted, not emitted half", () => {
    const h = harness();
    const message = ticker(h.seq(), "BTC-USD", "1", "1", "2", "1") as {
      events: Array<{ tickers: object[] }>;
    };
    delete (message.events[0]!.tickers[0] as Record<string, unknown>).best_ask_quantity;
    h.feed(message);
    expect(h.frames()).toEqual([]);
    expect(h.parseErrors()).toBe(1);
  });

  test("errors, unknown channels, stale sequence numbers and junk are counted and skipped", () => {
    const h = harness();
    h.feed({ type: "error", message: "authentication failure" });
    h.feed(envelope("candles", h.seq(), []));
    h.feed(
      envelope("heartbeats", h.seq(), [
        { current_time: "2026-09-05 22:10:30.25788961 +0000 UTC m=+1", heartbeat_counter: 1 },
      ]),
    );
    h.feed(envelope("heartbeats", 0, [])); // stale
    h.feed("not json");
    h.feed("[1,2]");
    h.feed({ hello: "world" });
    h.feed(ticker(h.seq(), "SOL-USD", "1", "1", "2", "1"));
    expect(h.parseErrors()).toBe(6);
    expect(h.frames().map((f) => f.kind)).toEqual([Kind.Bbo, Kind.Bbo]);
  });

  test("a new connection starts a fresh sequence_num baseline", () => {
    const h = harness();
    h.feed(envelope("heartbeats", 100, []));
    h.adapter.onClose(h.t.ctx);
    h.adapter.onOpen(h.t.ctx);
    h.feed(envelope("heartbeats", 0, []));
    h.feed(envelope("heartbeats", 1, []));
    expect(h.frames()).toEqual([]);
    expect(h.parseErrors()).toBe(0);
  });

  test("the pacer keeps control messages under its rate and drops its queue with the connection", async () => {
    const t = createTestContext("coinbase");
    const pacer = new SendPacer(20);
    const started = Date.now();
    for (let i = 0; i < 30; i++) pacer.send(t.ctx, `m${i}`);
    expect(t.sent.length).toBe(20);
    await waitFor(() => t.sent.length === 25);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    pacer.clear();
    expect(pacer.queued).toBe(0);
  });
});
