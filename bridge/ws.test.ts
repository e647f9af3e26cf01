// The WebSocket side through real clients: filtering, exact decimals, BBO merge, book grouping, slow clients.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Exchange,
  FLAG_ASK,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  FLAG_TAKER_SELL,
  Kind,
  ResyncReason,
  Status,
} from "../schema/frame.ts";
import { type Bridge, startBridge } from "./bridge.ts";
import { loadBridgeConfig } from "./config.ts";
import { Frames, memoryLogger, TestClient } from "./testing.ts";

const spoolDir = mkdtempSync(join(tmpdir(), "tw-ws-"));
let bridge: Bridge;
let url: string;

beforeAll(async () => {
  const config = loadBridgeConfig({
    BRIDGE_PORT: "0",
    BRIDGE_HOST: "127.0.0.1",
    BRIDGE_METRICS_PORT: "-1",
    BRIDGE_SPOOL_DIR: spoolDir,
    BRIDGE_MAX_BEHIND_MS: "60s", // the slow-client test below is about the per-client buffer limit
  });
  bridge = await startBridge({ config, log: memoryLogger() });
  url = `ws://127.0.0.1:${bridge.port}/ws`;
});
afterAll(async () => {
  await bridge.close();
  rmSync(spoolDir, { recursive: true, force: true });
});

describe("subscriptions", () => {
  test("a client gets only what it subscribed to, with exact decimal strings", async () => {
    const btcKraken = await TestClient.connect(url);
    const everything = await TestClient.connect(url);
    expect(
      await btcKraken.request({
        op: "subscribe",
        exchanges: ["kraken"],
        symbols: ["BTC-USD"],
        kinds: ["trade"],
      }),
    ).toMatchObject({ type: "subscribed", topics: 1 });
    expect(await everything.request({ op: "subscribe" })).toMatchObject({ type: "subscribed" });

    const f = new Frames()
      // BTC-USD on Kraken: 2 price decimals, 8 size decimals.
      .add({
        kind: Kind.Trade,
        flags: FLAG_TAKER_SELL,
        exchange: Exchange.Kraken,
        instrument: 1,
        seq: 7,
        id: 123456789,
        price: 5000012,
        size: 1,
      })
      // Same symbol on Coinbase: filtered out for the first client.
      .add({
        kind: Kind.Trade,
        flags: 0x10,
        exchange: Exchange.Coinbase,
        instrument: 1,
        seq: 1,
        id: 5,
        price: 100,
        size: 100000000,
        tsRecv: 1,
      })
      // SHIB-USDT on Binance: 9 price decimals, 5 size decimals.
      .add({
        kind: Kind.Trade,
        flags: 0x10,
        exchange: Exchange.Binance,
        instrument: 8,
        seq: 2,
        id: 6,
        price: 12345,
        size: 123456789012,
        tsRecv: 2,
      });
    // ns stamps beyond 2^53, set as exact i64s (a JS number could not hold them).
    const raw = new DataView(f.bytes().buffer);
    raw.setBigInt64(32, 1700000000123456789n, true);
    raw.setBigInt64(40, 1700000000123999999n, true);
    f.feed(bridge.onFrame);

    await everything.waitFor(() => everything.of("trade").length === 3);
    await btcKraken.waitFor(() => btcKraken.of("trade").length === 1);
    const t = btcKraken.of("trade")[0]!;
    expect(t).toEqual({
      type: "trade",
      exchange: "kraken",
      symbol: "BTC-USD",
      price: "50000.12",
      size: "0.00000001",
      side: "sell",
      tradeId: "123456789",
      seq: 7,
      tsExchange: "1700000000123456789",
      tsRecv: "1700000000123999999",
    });
    const [, cb, shib] = everything.of("trade");
    expect(cb).toMatchObject({
      exchange: "coinbase",
      price: "1",
      size: "1",
      side: "buy",
      tsExchange: null,
      tsRecv: "1",
    });
    expect(shib).toMatchObject({ symbol: "SHIB-USDT", price: "0.000012345", size: "1234567.89012" });
    btcKraken.close();
    everything.close();
  });

  test("ns timestamps are exact: the text equals the i64 the frame holds", async () => {
    const c = await TestClient.connect(url);
    await c.request({ op: "subscribe", exchanges: ["binance"], symbols: ["BTC-USDT"], kinds: ["trade"] });
    const f = new Frames();
    const stamps = [1n, 999_999_999n, 1_000_000_000n, 1_700_000_000_000_000_001n, 1_732_000_000_999_999_999n];
    for (const [i, ns] of stamps.entries()) {
      f.add({
        kind: Kind.Trade,
        exchange: Exchange.Binance,
        instrument: 4,
        id: i + 1,
        price: 1,
        size: 1,
        tsExchange: 0,
        tsRecv: 0,
      });
      // encodeFrame takes numbers; set the exact i64 bytes directly.
      new DataView(f.bytes().buffer).setBigInt64(i * 48 + 40, ns, true);
    }
    f.feed(bridge.onFrame);
    await c.waitFor(() => c.of("trade").length === stamps.length);
    expect(c.of("trade").map((m) => m.tsRecv)).toEqual(stamps.map(String));
    c.close();
  });

  test("unknown values are named back and nothing is subscribed", async () => {
    const c = await TestClient.connect(url);
    const reply = await c.request({
      op: "subscribe",
      exchanges: ["kraken", "ftx"],
      symbols: ["DOGE-USD"],
      kinds: ["candles"],
    });
    expect(reply).toMatchObject({
      type: "error",
      code: "unknown_values",
      unknown: { exchanges: ["ftx"], symbols: ["DOGE-USD"], kinds: ["candles"] },
    });
    expect(reply.message).toContain('"ftx"');
    expect(await c.request({ op: "unsubscribe" })).toMatchObject({
      type: "unsubscribed",
      topics: 0,
      removed: 0,
    });
    expect(await c.request({ op: "nope" })).toMatchObject({ type: "error", code: "bad_request" });
    c.send("not json");
    await c.waitFor(() => c.of("error").length === 3);
    c.close();
  });

  test("unsubscribe stops delivery; status for the whole connection reaches status subscribers", async () => {
    const c = await TestClient.connect(url);
    await c.request({
      op: "subscribe",
      exchanges: ["coinbase"],
      symbols: ["ETH-USD"],
      kinds: ["trade", "status"],
    });
    new Frames()
      .add({
        kind: Kind.Status,
        flags: Status.Disconnected << 4,
        exchange: Exchange.Coinbase,
        instrument: 0,
        seq: 3,
        tsRecv: 10,
      })
      .add({
        kind: Kind.Status,
        flags: Status.BookResync << 4,
        exchange: Exchange.Coinbase,
        instrument: 2,
        id: ResyncReason.Checksum,
        seq: 4,
        tsRecv: 11,
      })
      .add({
        kind: Kind.Status,
        flags: Status.Gap << 4,
        exchange: Exchange.Coinbase,
        instrument: 2,
        id: 100,
        price: 5,
        seq: 5,
        tsRecv: 12,
      })
      .feed(bridge.onFrame);
    await c.waitFor(() => c.of("status").length === 3);
    expect(c.of("status")).toEqual([
      {
        type: "status",
        exchange: "coinbase",
        symbol: null,
        status: "disconnected",
        detail: 0,
        count: 0,
        seq: 3,
        tsExchange: null,
        tsRecv: "10",
      },
      {
        type: "status",
        exchange: "coinbase",
        symbol: "ETH-USD",
        status: "book_resync",
        detail: 1,
        count: 0,
        reason: "checksum",
        seq: 4,
        tsExchange: null,
        tsRecv: "11",
      },
      {
        type: "status",
        exchange: "coinbase",
        symbol: "ETH-USD",
        status: "gap",
        detail: 100,
        count: 5,
        seq: 5,
        tsExchange: null,
        tsRecv: "12",
      },
    ]);
    expect(await c.request({ op: "unsubscribe", kinds: ["trade"] })).toMatchObject({ topics: 2, removed: 1 });
    new Frames().trade(Exchange.Coinbase, 2, 1, 100, 100).feed(bridge.onFrame);
    new Frames()
      .add({
        kind: Kind.Status,
        flags: Status.Connected << 4,
        exchange: Exchange.Coinbase,
        instrument: 0,
        seq: 6,
        tsRecv: 13,
      })
      .feed(bridge.onFrame);
    await c.waitFor(() => c.of("status").length === 4);
    expect(c.of("trade")).toHaveLength(0);
    c.close();
  });
});

describe("bbo and book", () => {
  test("a bid frame and the ask frame after it become one bbo message; a late subscriber gets the current one", async () => {
    const c = await TestClient.connect(url);
    await c.request({ op: "subscribe", exchanges: ["kraken"], symbols: ["ETH-USD"], kinds: ["bbo"] });
    new Frames()
      .add({
        kind: Kind.Bbo,
        exchange: Exchange.Kraken,
        instrument: 2,
        seq: 10,
        price: 300050,
        size: 150000000,
        tsRecv: 5,
      })
      .add({
        kind: Kind.Bbo,
        flags: FLAG_ASK | FLAG_END,
        exchange: Exchange.Kraken,
        instrument: 2,
        seq: 11,
        price: 300051,
        size: 2,
        tsExchange: 4,
        tsRecv: 6,
      })
      .feed(bridge.onFrame);
    await c.waitFor(() => c.of("bbo").length === 1);
    expect(c.of("bbo")[0]).toEqual({
      type: "bbo",
      exchange: "kraken",
      symbol: "ETH-USD",
      bidPrice: "3000.5",
      bidSize: "1.5",
      askPrice: "3000.51",
      askSize: "0.00000002",
      seq: 11,
      tsExchange: "4",
      tsRecv: "6",
    });
    const late = await TestClient.connect(url);
    await late.request({ op: "subscribe", exchanges: ["kraken"], symbols: ["ETH-USD"], kinds: ["bbo"] });
    await late.waitFor(() => late.of("bbo").length === 1);
    expect(late.of("bbo")[0]).toEqual(c.of("bbo")[0]!);
    c.close();
    late.close();
  });

  test("book frames are grouped up to FLAG_END; a late subscriber starts from the bridge's snapshot", async () => {
    const c = await TestClient.connect(url);
    await c.request({ op: "subscribe", exchanges: ["coinbase"], symbols: ["SOL-USD"], kinds: ["book"] });
    const snap = FLAG_SNAPSHOT;
    new Frames()
      .add({
        kind: Kind.BookLevel,
        flags: snap | FLAG_BEGIN,
        exchange: Exchange.Coinbase,
        instrument: 3,
        seq: 1,
        price: 10000,
        size: 100000000,
        tsRecv: 1,
      })
      .add({
        kind: Kind.BookLevel,
        flags: snap,
        exchange: Exchange.Coinbase,
        instrument: 3,
        seq: 2,
        price: 9990,
        size: 200000000,
        tsRecv: 1,
      })
      .add({
        kind: Kind.BookLevel,
        flags: snap | FLAG_ASK | FLAG_END,
        exchange: Exchange.Coinbase,
        instrument: 3,
        seq: 3,
        id: 77,
        price: 10010,
        size: 300000000,
        tsRecv: 1,
      })
      // A delta: the 99.90 bid goes away, a new ask appears.
      .add({
        kind: Kind.BookLevel,
        exchange: Exchange.Coinbase,
        instrument: 3,
        seq: 4,
        price: 9990,
        size: 0,
        tsRecv: 2,
      })
      .add({
        kind: Kind.BookLevel,
        flags: FLAG_ASK | FLAG_END,
        exchange: Exchange.Coinbase,
        instrument: 3,
        seq: 5,
        id: 78,
        price: 10020,
        size: 50000000,
        tsRecv: 2,
      })
      .feed(bridge.onFrame);
    await c.waitFor(() => c.of("book").length === 2);
    const [s, d] = c.of("book");
    expect(s).toMatchObject({
      snapshot: true,
      reset: true,
      bids: [
        ["100", "1"],
        ["99.9", "2"],
      ],
      asks: [["100.1", "3"]],
      updateId: "77",
      seq: 3,
    });
    expect(d).toMatchObject({
      snapshot: false,
      reset: false,
      bids: [["99.9", "0"]],
      asks: [["100.2", "0.5"]],
      updateId: "78",
      seq: 5,
    });

    const late = await TestClient.connect(url);
    await late.request({ op: "subscribe", exchanges: ["coinbase"], symbols: ["SOL-USD"], kinds: ["book"] });
    await late.waitFor(() => late.of("book").length === 1);
    expect(late.of("book")[0]).toMatchObject({
      snapshot: true,
      reset: true,
      cached: true,
      bids: [["100", "1"]],
      asks: [
        ["100.1", "3"],
        ["100.2", "0.5"],
      ],
      seq: 5,
    });
    c.close();
    late.close();
  });

  test("Kraken books are truncated to KRAKEN_BOOK_DEPTH, and the message says which levels fell out", async () => {
    const c = await TestClient.connect(url);
    await c.request({ op: "subscribe", exchanges: ["kraken"], symbols: ["SOL-USD"], kinds: ["book"] });
    const f = new Frames();
    for (let i = 0; i < 10; i++) {
      f.add({
        kind: Kind.BookLevel,
        flags: FLAG_SNAPSHOT | (i === 0 ? FLAG_BEGIN : 0),
        exchange: Exchange.Kraken,
        instrument: 3,
        price: 1000 - i,
        size: 1,
        tsRecv: 1,
      });
    }
    f.add({
      kind: Kind.BookLevel,
      flags: FLAG_SNAPSHOT | FLAG_ASK | FLAG_END,
      exchange: Exchange.Kraken,
      instrument: 3,
      price: 2000,
      size: 1,
      tsRecv: 1,
    });
    // A better bid pushes the worst (9.91) out of the 10-level book; Kraken sends no delete for it.
    f.add({
      kind: Kind.BookLevel,
      flags: FLAG_END,
      exchange: Exchange.Kraken,
      instrument: 3,
      price: 1001,
      size: 1,
      tsRecv: 2,
    });
    f.feed(bridge.onFrame);
    await c.waitFor(() => c.of("book").length === 2);
    expect(c.of("book")[1]!.bids).toEqual([
      ["10.01", "0.00000001"],
      ["9.91", "0"],
    ]);
    c.close();
  });
});

describe("limits", () => {
  test("a client that stops reading gets a final slow_client error and is closed; others get everything", async () => {
    const { SlowClient } = await import("./slow-client-fixture.ts");
    const healthy = await TestClient.connect(url);
    await healthy.request({
      op: "subscribe",
      exchanges: ["binance"],
      symbols: ["ETH-USDT"],
      kinds: ["trade"],
    });
    const slow = await SlowClient.connect(bridge.port);
    await slow.subscribe({
      op: "subscribe",
      exchanges: ["binance"],
      symbols: ["ETH-USDT"],
      kinds: ["trade"],
    });
    slow.pause();
    const cut = bridge.metrics.slowClientsClosed("buffer");
    const before = cut.value;
    // Feed until the bridge gives up on the paused client (the kernel buffers a few MB first).
    let sent = 0;
    while (cut.value === before && sent < 400_000) {
      const f = new Frames();
      for (let i = 0; i < 1000; i++) f.trade(Exchange.Binance, 5, ++sent, 300000 + (sent % 100), 12345);
      f.feed(bridge.onFrame);
      await Bun.sleep(0); // let the publisher flush and the sockets move
    }
    expect(cut.value).toBe(before + 1);
    slow.resume(); // within BRIDGE_SLOW_CLOSE_GRACE_MS, so it still reads its final message
    await healthy.waitFor(() => healthy.of("trade").length === sent, 20_000);
    expect(healthy.of("trade").map((m) => Number(m.tradeId))).toEqual(
      Array.from({ length: sent }, (_, i) => i + 1),
    );
    // Under load, trades of one tick travel as JSON arrays: far fewer WebSocket messages than trades.
    expect(healthy.raw.length).toBeLessThan(sent / 10);
    const last = await slow.closed;
    expect(last.code).toBe(4008);
    expect(last.lastText).toContain('"code":"slow_client"');
    healthy.close();
  }, 30_000);

  test("origins outside BRIDGE_ALLOWED_ORIGINS and clients past BRIDGE_MAX_CLIENTS are refused", async () => {
    const config = loadBridgeConfig({
      BRIDGE_PORT: "0",
      BRIDGE_HOST: "127.0.0.1",
      BRIDGE_METRICS_PORT: "-1",
      BRIDGE_ALLOWED_ORIGINS: "https://app.example.com",
      BRIDGE_MAX_CLIENTS: "1",
    });
    const b = await startBridge({ config, log: memoryLogger() });
    const u = `ws://127.0.0.1:${b.port}/ws`;
    const bad = await fetch(`http://127.0.0.1:${b.port}/ws`, {
      headers: {
        origin: "https://evil.example.com",
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    });
    expect(bad.status).toBe(403);
    const ok = await TestClient.connect(u, { origin: "https://app.example.com" });
    await expect(TestClient.connect(u, { origin: "https://app.example.com" })).rejects.toThrow();
    expect(b.metrics.clientsRejected("max_clients").value).toBe(1);
    ok.close();
    await b.close();
  });
});
