// A client that stops reading must show in getBufferedAmount (which every slow-client bound counts) after little
// more than its receive window, not after the kernel took MiBs of unsent bytes for it: with 1,000 such clients
// that was ~1.5 GiB of kernel buffers filled by 150-340 ms publishes while the bridge saw nothing, and the normal
// client of slow-clients.rss.test.ts fell up to ~9 s behind (socket-buffers.ts).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Exchange } from "../schema/frame.ts";
import { startBridge } from "./bridge.ts";
import { loadBridgeConfig } from "./config.ts";
import { SlowClient } from "./slow-client-fixture.ts";
import { KERNEL_UNSENT_BYTES, listeningSockets, unsentLimit } from "./socket-buffers.ts";
import { Frames, memoryLogger, TestClient } from "./testing.ts";

const SUB = { op: "subscribe", exchanges: ["binance"], symbols: ["ETH-USDT"], kinds: ["trade"] };
const spoolDir = mkdtempSync(join(tmpdir(), "tw-sockbuf-"));
afterAll(() => rmSync(spoolDir, { recursive: true, force: true }));

test("a client that never reads is seen as backpressure within 1 MiB sent to it; a reader gets everything", async () => {
  const config = loadBridgeConfig({
    BRIDGE_PORT: "0",
    BRIDGE_METRICS_PORT: "-1",
    BRIDGE_SPOOL_DIR: spoolDir,
    // No cut during the test: only when the bridge first sees the client's unsent bytes matters here.
    BRIDGE_MAX_BUFFERED_BYTES: "256MiB",
    BRIDGE_MAX_TOTAL_BUFFERED_BYTES: "1GiB",
    BRIDGE_MAX_BEHIND_MS: "1h",
  });
  await using bridge = await startBridge({ config, log: memoryLogger() });
  // The listening socket carries the bound; accepted sockets inherit it (what the rest measures).
  expect(listeningSockets(bridge.port).map(unsentLimit)).toEqual([KERNEL_UNSENT_BYTES]);
  const slow = await SlowClient.connect(bridge.port);
  try {
    await slow.subscribe(SUB);
    slow.pause();
    await using reader = await TestClient.connect(`ws://127.0.0.1:${bridge.port}/ws`);
    await reader.request(SUB);
    const slowWs = [...bridge.hub.clients][0]!;
    expect(slowWs.data.topics.size).toBe(1);

    let id = 0;
    let bytes = 0; // what each of the two subscribers was sent: the reader's raw messages
    while (slowWs.getBufferedAmount() === 0 && bytes < 32 << 20) {
      const f = new Frames();
      for (let i = 0; i < 100; i++) f.trade(Exchange.Binance, 5, ++id, 300000 + (id % 97), 12345);
      f.feed(bridge.onFrame);
      await reader.waitFor(() => reader.of("trade").length === id);
      bytes = reader.raw.reduce((n, m) => n + m.length, 0);
    }
    console.log(JSON.stringify({ sentBeforeBackpressure: bytes, trades: id }));
    expect(slowWs.getBufferedAmount()).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(1 << 20);
    expect(reader.of("trade").map((m) => Number(m.tradeId))).toEqual(
      Array.from({ length: id }, (_, i) => i + 1),
    );
  } finally {
    slow.destroy();
  }
});
