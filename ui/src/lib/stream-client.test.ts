// The reconnecting client against a real Bun WebSocket server: batches per scheduled frame, arrays and
// single objects, resubscribe after the server drops it, backoff between attempts.
import { expect, test } from "bun:test";
import type { ServerWebSocket } from "bun";
import type { StreamMessage } from "./messages.ts";
import { makeStreamClient, type StreamStatus } from "./stream-client.ts";

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

test("batches per frame, resubscribes after a drop, backs off, stops cleanly", async () => {
  const received: string[] = [];
  const sockets: ServerWebSocket<unknown>[] = [];
  let connections = 0;
  await using server = Bun.serve({
    port: 0,
    fetch(req, srv) {
      connections++;
      return srv.upgrade(req) ? undefined : new Response("no", { status: 400 });
    },
    websocket: {
      open: (ws) => void sockets.push(ws),
      message: (_ws, m) => void received.push(String(m)),
    },
  });

  // a manual scheduler: frames run only when the test says so
  const pending: (() => void)[] = [];
  const batches: StreamMessage[][] = [];
  const statuses: StreamStatus[] = [];
  let reconnects = 0;
  const client = makeStreamClient({
    url: () => `ws://127.0.0.1:${server.port}/ws`,
    onBatch: (b) => batches.push(b),
    onStatus: (s) => statuses.push(s),
    onReconnect: () => reconnects++,
    schedule: (run) => pending.push(run),
    minBackoffMs: 20,
    maxBackoffMs: 40,
    random: () => 1,
  });
  client.setSubscriptions([{ op: "subscribe", kinds: ["status"] }]);
  client.start();
  await until(() => received.length >= 1, "the subscription");
  expect(JSON.parse(received[0]!)).toEqual({ op: "subscribe", kinds: ["status"] });

  const ws = sockets[0]!;
  ws.send(JSON.stringify({ type: "subscribed", topics: 1, added: 1 }));
  ws.send(
    JSON.stringify([
      { type: "error", code: "a", message: "1" },
      { type: "error", code: "b", message: "2" },
    ]),
  );
  ws.send("not json");
  await until(() => client.counts.frames === 3, "three frames");
  expect(pending).toHaveLength(1); // one frame scheduled for all three
  pending.shift()!();
  expect(batches).toHaveLength(1);
  expect(batches[0]!.map((m) => m.type)).toEqual(["subscribed", "error", "error"]);
  expect(client.counts).toMatchObject({ messages: 3, parseErrors: 1 });

  // the server drops us: closed with a retry time, then reopened and resubscribed
  ws.close(4008, "slow");
  await until(() => statuses.some((s) => s.state === "closed" && s.retryAt !== null), "closed state");
  expect(statuses.find((s) => s.state === "closed")!.lastError).toBe("closed 4008: slow");
  await until(() => received.length >= 2, "the resubscription");
  expect(received.slice(1).map((r) => JSON.parse(r))).toEqual([{ op: "subscribe", kinds: ["status"] }]);
  expect(reconnects).toBe(1);
  expect(client.status.state).toBe("open");

  // replacing subscriptions on an open socket: unsubscribe everything, then the new set
  client.setSubscriptions([{ op: "subscribe", kinds: ["trade"], symbols: ["BTC-USD"] }]);
  await until(() => received.length >= 4, "the replacement");
  expect(received.slice(2).map((r) => JSON.parse(r))).toEqual([
    { op: "unsubscribe" },
    { op: "subscribe", kinds: ["trade"], symbols: ["BTC-USD"] },
  ]);

  client.stop();
  await until(() => client.status.state === "closed", "stop");
  const before = connections;
  await Bun.sleep(100); // longer than the max backoff: a stopped client must not come back
  expect(connections).toBe(before);
});

test("backoff doubles up to the cap while the server is away", async () => {
  const statuses: StreamStatus[] = [];
  const client = makeStreamClient({
    url: () => "ws://127.0.0.1:1/ws", // nothing listens on port 1
    onBatch: () => {},
    onStatus: (s) => statuses.push(s),
    minBackoffMs: 10,
    maxBackoffMs: 40,
    random: () => 1,
  });
  client.start();
  await until(() => statuses.filter((s) => s.state === "closed").length >= 4, "four failed attempts");
  client.stop();
  const closed = statuses.filter((s) => s.state === "closed" && s.retryAt !== null).slice(0, 4);
  expect(closed.map((s) => s.attempts)).toEqual([1, 2, 3, 4]);
  // jitter pinned by random = 1: 10, 20, 40 (the cap), 40 ms
  expect(closed.map((s) => s.retryInMs)).toEqual([10, 20, 40, 40]);
  expect(statuses.every((s) => s.opened === 0)).toBe(true);
});
