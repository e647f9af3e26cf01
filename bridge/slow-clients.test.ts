// The bounds that keep many slow clients from holding the bridge's memory (issue 8): time behind, a budget for
// all clients together (the largest are cut first), and termination of a cut client that does not go.
import { expect, test } from "bun:test";
import { SLOW_CLIENT_CLOSE_CODE } from "./clients.ts";
import { setupHub } from "./hub-fixture.ts";
import { CLOSE_LINGER_MS, CloseBudget } from "./slow-clients.ts";

const SUB = JSON.stringify({
  op: "subscribe",
  exchanges: ["kraken"],
  symbols: ["ETH-USD"],
  kinds: ["trade"],
});

test("a client behind for longer than maxBehindMs is cut, though under its own limit", () => {
  const { hub, ws, metrics } = setupHub({ maxBehindMs: 5000 });
  hub.message(ws, SUB);
  ws.buffered = 200; // above a sixteenth of 1600, below the limit
  hub.checkBackpressure(1000);
  hub.checkBackpressure(5999);
  expect(ws.closedWith).toBeNull();
  hub.checkBackpressure(6000);
  expect(ws.closedWith).toBe(SLOW_CLIENT_CLOSE_CODE);
  expect(ws.last()).toMatchObject({ type: "error", code: "slow_client", reason: "behind" });
  expect(metrics.slowClientsClosed("behind").value).toBe(1);
});

test("catching up in between restarts the clock", () => {
  const { hub, ws } = setupHub({ maxBehindMs: 5000 });
  ws.buffered = 200;
  hub.checkBackpressure(1000);
  ws.buffered = 10;
  hub.checkBackpressure(4000);
  ws.buffered = 200;
  hub.checkBackpressure(5000);
  hub.checkBackpressure(9999);
  expect(ws.closedWith).toBeNull();
  hub.checkBackpressure(10_000);
  expect(ws.closedWith).toBe(SLOW_CLIENT_CLOSE_CODE);
});

test("over the total budget the clients holding the most are cut until the rest fits", () => {
  const { hub, ws, connect, metrics } = setupHub({ maxTotalBufferedBytes: 3000, maxBufferedBytes: 4000 });
  const others = [connect(), connect(), connect()];
  ws.buffered = 1500;
  others[0]!.buffered = 1000;
  others[1]!.buffered = 900;
  others[2]!.buffered = 50; // the reader that keeps up
  hub.checkBackpressure(1);
  // 3450 > 3000: cutting the 1500 one is enough.
  expect(ws.closedWith).toBe(SLOW_CLIENT_CLOSE_CODE);
  expect(ws.last()).toMatchObject({ code: "slow_client", reason: "budget" });
  expect(others.map((o) => o.closedWith)).toEqual([null, null, null]);
  expect(metrics.bufferedBytes.value).toBe(1950);
  others[1]!.buffered = 2000;
  hub.checkBackpressure(2); // 1000 + 2000 + 50 > 3000: the 2000 one goes
  expect(others.map((o) => o.closedWith)).toEqual([null, SLOW_CLIENT_CLOSE_CODE, null]);
  expect(metrics.slowClientsClosed("budget").value).toBe(2);
});

test("cut clients get a final message and a close while closing sockets hold little; beyond that they are dropped", () => {
  // uWS keeps a gracefully closed socket's buffer ~16 s when the peer does not read: those bytes are budgeted.
  const { hub, ws, connect, metrics } = setupHub({ maxClosingBytes: 3000 });
  const second = connect();
  ws.buffered = 1601;
  hub.checkBackpressure(100);
  expect(ws.closedWith).toBe(SLOW_CLIENT_CLOSE_CODE);
  expect(ws.last()).toMatchObject({ code: "slow_client", reason: "buffer" });
  second.buffered = 1700; // 1601 + 1700 + the messages > 3000
  hub.checkBackpressure(200);
  expect(second.closedWith).toBeNull();
  expect(second.terminated).toBe(true);
  expect(metrics.clientsTerminated.value).toBe(1);
  expect(metrics.slowClientsClosed("buffer").value).toBe(2);
});

test("the close budget frees what lingering closes held after CLOSE_LINGER_MS", () => {
  const budget = new CloseBudget(1000);
  expect(budget.admit(800, 0)).toBe(true);
  expect(budget.admit(300, 1000)).toBe(false);
  expect(budget.admit(300, CLOSE_LINGER_MS)).toBe(true);
  expect(budget.held).toBe(300);
});
