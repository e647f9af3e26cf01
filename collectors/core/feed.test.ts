import { expect, test } from "bun:test";
import type { ServerWebSocket } from "bun";
import { createLogger } from "../../lib/log.ts";
import { waitFor } from "../../lib/testing.ts";
import { Kind, Status, writeId, writePrice, writeSize } from "../../schema/frame.ts";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../../schema/instruments.ts";
import { createCollectorContext } from "./context.ts";
import { ExchangeFeed } from "./feed.ts";
import type { VenueAdapter } from "./types.ts";

function startExchange() {
  const received: string[] = [];
  const sockets = new Set<ServerWebSocket<unknown>>();
  const server = Bun.serve({
    port: 0,
    fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      open: (ws) => void sockets.add(ws),
      close: (ws) => void sockets.delete(ws),
      message: (ws, msg) => {
        received.push(String(msg));
        if (String(msg) === "subscribe") ws.send("trade 1");
      },
    },
  });
  return {
    server,
    received,
    sockets,
    url: `ws://127.0.0.1:${server.port}/`,
    [Symbol.dispose]: () => server.stop(true),
  };
}

function adapterFor(url: string, idleTimeoutMs = 60_000): VenueAdapter {
  return {
    exchange: "kraken",
    url: () => url,
    subscribeMessages: () => ["subscribe"],
    idleTimeoutMs,
    resyncsPerMinute: 60,
    onMessage(text, ctx) {
      if (text === "boom") throw new Error("adapter bug");
      const off = ctx.emitter.begin(Kind.Trade, 0, 1);
      writeId(ctx.emitter.view, off, Number(text.split(" ")[1]));
      writePrice(ctx.emitter.view, off, 1);
      writeSize(ctx.emitter.view, off, 1);
      ctx.emitter.commit();
    },
  };
}

function harness(url: string, idleTimeoutMs?: number) {
  const frames: Array<{ kind: number; code: number }> = [];
  const ctx = createCollectorContext({
    exchange: "kraken",
    registry: new InstrumentRegistry(DEFAULT_INSTRUMENTS),
    resyncsPerMinute: 60,
    log: createLogger({}, () => {}),
    output: {
      accept(bytes, length) {
        for (let off = 0; off < length; off += 48)
          frames.push({ kind: bytes[off]! & 0x0f, code: bytes[off]! >> 4 });
        return true;
      },
    },
  });
  const feed = new ExchangeFeed(adapterFor(url, idleTimeoutMs), ctx, { backoffMinMs: 10, backoffMaxMs: 50 });
  feed.start();
  return { frames, ctx, feed, [Symbol.dispose]: () => feed.stop() };
}

test("subscribes on open, reconnects and resubscribes after the exchange drops it, status frames tell", async () => {
  using ex = startExchange();
  using h = harness(ex.url);
  await waitFor(() => h.frames.some((f) => f.kind === Kind.Trade));
  for (const ws of ex.sockets) ws.close(1001, "going away");
  await waitFor(() => ex.received.filter((m) => m === "subscribe").length === 2);
  await waitFor(() => h.frames.filter((f) => f.kind === Kind.Trade).length === 2);
  const statuses = h.frames.filter((f) => f.kind === Kind.Status).map((f) => f.code);
  expect(statuses).toEqual([Status.Connected, Status.Disconnected, Status.Connected]);
  expect(h.ctx.metrics.reconnects.value).toBe(1);
});

test("keeps retrying with backoff while the exchange is unreachable", async () => {
  using ex = startExchange();
  const url = ex.url;
  ex.server.stop(true);
  using h = harness(url);
  await waitFor(() => h.ctx.metrics.reconnects.value >= 3);
  expect(h.frames.filter((f) => f.kind === Kind.Status)).toEqual([]);
});

test("an exception in the adapter is counted, the feed keeps going", async () => {
  using ex = startExchange();
  using h = harness(ex.url);
  await waitFor(() => ex.sockets.size === 1);
  for (const ws of ex.sockets) {
    ws.send("boom");
    ws.send("trade 2");
  }
  await waitFor(() => h.frames.filter((f) => f.kind === Kind.Trade).length === 2);
  expect(h.ctx.metrics.registry.render()).toContain('reason="handler_exception"} 1');
});

test("an idle connection is replaced", async () => {
  using ex = startExchange();
  using h = harness(ex.url, 300);
  await waitFor(() => ex.received.filter((m) => m === "subscribe").length >= 2, { timeoutMs: 5000 });
  expect(h.frames.some((f) => f.kind === Kind.Status && f.code === Status.Disconnected)).toBe(true);
});
