// The slow-client policy on its own, with sockets whose unsent byte count the test controls.
import { expect, test } from "bun:test";
import { Exchange, FLAG_ASK, FLAG_END, Kind } from "../schema/frame.ts";
import { SLOW_CLIENT_CLOSE_CODE } from "./clients.ts";
import { setupHub as setup } from "./hub-fixture.ts";
import { Frames } from "./testing.ts";

test("past a quarter of the limit book/bbo pause; below a sixteenth they resume with the current BBO", () => {
  const { table, hub, ws, metrics } = setup();
  hub.message(ws, JSON.stringify({ op: "subscribe", exchanges: ["binance"], symbols: ["BTC-USDT"] }));
  const e = table.entry(Exchange.Binance, 4);
  expect([...ws.subscribed].sort()).toEqual([
    "binance:*:status",
    "binance:BTC-USDT:bbo",
    "binance:BTC-USDT:book",
    "binance:BTC-USDT:status",
    "binance:BTC-USDT:trade",
  ]);
  expect(e.bbo.subscribers).toBe(1);

  ws.buffered = 401;
  hub.checkBackpressure();
  expect(ws.subscribed.has("binance:BTC-USDT:bbo")).toBe(false);
  expect(ws.subscribed.has("binance:BTC-USDT:book")).toBe(false);
  expect(ws.subscribed.has("binance:BTC-USDT:trade")).toBe(true);
  expect(e.bbo.subscribers).toBe(0); // nobody else listens: the bridge stops building bbo JSON
  expect(metrics.conflations.value).toBe(1);

  // The market moves while the client is paused.
  new Frames()
    .add({ kind: Kind.Bbo, exchange: Exchange.Binance, instrument: 4, price: 100, size: 1 })
    .add({
      kind: Kind.Bbo,
      flags: FLAG_ASK | FLAG_END,
      exchange: Exchange.Binance,
      instrument: 4,
      price: 101,
      size: 1,
    })
    .feed((v, off) => e.bboState.apply(v, off));

  ws.buffered = 150; // between a sixteenth and a quarter: still paused
  hub.drain(ws);
  expect(ws.subscribed.has("binance:BTC-USDT:bbo")).toBe(false);
  ws.buffered = 50;
  const before = ws.sent.length;
  hub.drain(ws);
  expect(ws.subscribed.has("binance:BTC-USDT:bbo")).toBe(true);
  expect(e.bbo.subscribers).toBe(1);
  expect(JSON.parse(ws.sent[before]!)).toMatchObject({ type: "bbo", bidPrice: "1", askPrice: "1.01" });
});

test("past the limit a client gets slow_client and is closed; its topics stop at once", () => {
  const { table, hub, ws, metrics } = setup();
  hub.message(
    ws,
    JSON.stringify({ op: "subscribe", exchanges: ["kraken"], symbols: ["ETH-USD"], kinds: ["trade"] }),
  );
  ws.buffered = 1601;
  hub.checkBackpressure();
  expect(JSON.parse(ws.sent.at(-1)!)).toMatchObject({ type: "error", code: "slow_client" });
  expect(ws.closedWith).toBe(SLOW_CLIENT_CLOSE_CODE);
  expect(table.entry(Exchange.Kraken, 2).trade.subscribers).toBe(0);
  expect(metrics.slowClientsClosed("buffer").value).toBe(1);
  hub.checkBackpressure(); // closing: not closed twice
  expect(metrics.slowClientsClosed("buffer").value).toBe(1);
  hub.close(ws);
  expect(hub.clients.size).toBe(0);
});

test("a subscription past maxSubscriptions is refused whole", () => {
  const { hub, ws } = setup();
  hub.message(ws, JSON.stringify({ op: "subscribe", exchanges: ["kraken"] })); // 7 symbols × 4 kinds + 1
  expect(JSON.parse(ws.sent.at(-1)!)).toMatchObject({ type: "error", code: "too_many_subscriptions" });
  expect(ws.subscribed.size).toBe(0);
  hub.message(ws, new Uint8Array([1, 2]));
  expect(JSON.parse(ws.sent.at(-1)!)).toMatchObject({ type: "error", code: "bad_request" });
});
