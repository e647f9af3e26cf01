import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "./index.ts";
import { type Received, TestClient } from "./testing.ts";

interface Depth {
  U: number;
  u: number;
  b: [string, string][];
  a: [string, string][];
}

const isDepth = (f: Received) => f.json?.e === "depthUpdate" || f.json?.data?.e === "depthUpdate";
const data = (f: Received) => (f.json.stream ? f.json.data : f.json);

/** The documented local order book procedure (web-socket-streams.md). */
class LocalBook {
  bids = new Map<string, string>();
  asks = new Map<string, string>();
  id = 0;
  load(snap: { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] }): void {
    this.bids = new Map(snap.bids);
    this.asks = new Map(snap.asks);
    this.id = snap.lastUpdateId;
  }
  apply(e: Depth): void {
    if (e.u <= this.id) return;
    if (e.U > this.id + 1) throw new Error(`gap: U=${e.U} after ${this.id}`);
    for (const [p, q] of e.b) Number(q) === 0 ? this.bids.delete(p) : this.bids.set(p, q);
    for (const [p, q] of e.a) Number(q) === 0 ? this.asks.delete(p) : this.asks.set(p, q);
    this.id = e.u;
  }
  top(side: "bids" | "asks", n: number): [string, string][] {
    const dir = side === "bids" ? -1 : 1;
    return [...this[side]].sort((x, y) => dir * (Number(x[0]) - Number(y[0]))).slice(0, n);
  }
}

describe("binance spot simulator", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 21, eventsPerSecond: 60 });
  });
  afterAll(() => sim.stop());

  const depth = (symbol: string, limit = 1000) =>
    fetch(`${sim.urls.binanceRest}/api/v3/depth?symbol=${symbol}&limit=${limit}`);

  test("REST snapshot + buffered diffs sync per the documented procedure, U == prev u + 1", async () => {
    const c = await TestClient.connect(`${sim.urls.binanceWs}/ws/btcusdt@depth@100ms`);
    const first = await c.waitFor(isDepth);
    const res = await depth("BTCUSDT");
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("X-MBX-USED-WEIGHT-1M"))).toBeGreaterThanOrEqual(50);
    const snap = await res.json();
    expect(snap.lastUpdateId).toBeGreaterThanOrEqual(data(first).U);
    const book = new LocalBook();
    book.load(snap);
    const events = await c.collect(isDepth, 12, first.index);
    const kept = events.map(data).filter((e: Depth) => e.u > snap.lastUpdateId);
    expect(kept[0].U).toBeLessThanOrEqual(snap.lastUpdateId + 1);
    expect(kept[0].u).toBeGreaterThanOrEqual(snap.lastUpdateId + 1);
    for (let i = 1; i < kept.length; i++) expect(kept[i].U).toBe(kept[i - 1].u + 1);
    for (const e of kept) book.apply(e);
    for (const e of events.map(data))
      for (const [p, q] of [...e.b, ...e.a]) expect(p + q).toMatch(/^\d+\.\d{8}\d+\.\d{8}$/);

    // The local book equals a later snapshot taken at the same update id.
    let compared = false;
    let at = events.at(-1)!.index + 1;
    for (let i = 0; i < 30 && !compared; i++) {
      const later = await (await depth("BTCUSDT")).json();
      while (book.id < later.lastUpdateId) {
        const f = await c.waitFor(isDepth, at);
        at = f.index + 1;
        book.apply(data(f));
      }
      if (book.id === later.lastUpdateId) {
        expect(book.top("bids", 1000)).toEqual(later.bids);
        expect(book.top("asks", 1000)).toEqual(later.asks);
        compared = true;
      }
    }
    expect(compared).toBe(true);
    c.close();
  });

  test("@depth and @depth@1000ms are the same 1 s stream", async () => {
    const c = await TestClient.connect(
      `${sim.urls.binanceWs}/stream?streams=ethusdt@depth/ethusdt@depth@1000ms`,
    );
    const a = await c.waitFor((f) => f.json?.stream === "ethusdt@depth", 0, 3000);
    const b = await c.waitFor(
      (f) => f.json?.stream === "ethusdt@depth@1000ms" && f.json.data.u === a.json.data.u,
    );
    expect(b.json.data.U).toBe(a.json.data.U);
    const next = await c.waitFor((f) => f.json?.stream === "ethusdt@depth", a.index + 1, 3000);
    expect(next.json.data.U).toBe(a.json.data.u + 1);
    c.close();
  });

  test("combined streams wrap {stream,data}; trade and bookTicker payloads; timeUnit=MICROSECOND", async () => {
    const c = await TestClient.connect(
      `${sim.urls.binanceWs}/stream?streams=ethusdt@trade/ethusdt@bookTicker&timeUnit=MICROSECOND`,
    );
    const trade = await c.waitFor((f) => f.json?.stream === "ethusdt@trade");
    expect(Object.keys(trade.json.data)).toEqual(["e", "E", "s", "t", "p", "q", "T", "m", "M"]);
    expect(String(trade.json.data.E)).toHaveLength(16);
    expect(trade.json.data.s).toBe("ETHUSDT");
    const bt = await c.waitFor((f) => f.json?.stream === "ethusdt@bookTicker");
    expect(Object.keys(bt.json.data)).toEqual(["u", "s", "b", "B", "a", "A"]);
    expect(Number(bt.json.data.b)).toBeLessThan(Number(bt.json.data.a));
    const trades = await c.collect((f) => f.json?.stream === "ethusdt@trade", 4, trade.index);
    for (let i = 1; i < trades.length; i++)
      expect(trades[i]!.json.data.t).toBe(trades[i - 1]!.json.data.t + 1);
    c.close();
  });

  test("live SUBSCRIBE / LIST_SUBSCRIPTIONS and nested errors", async () => {
    const c = await TestClient.connect(`${sim.urls.binanceWs}/ws`);
    c.send({ method: "SUBSCRIBE", params: ["solusdt@trade", "solusdt@depth"], id: 1 });
    expect((await c.waitFor((f) => f.json?.id === 1)).json).toEqual({ result: null, id: 1 });
    c.send({ method: "LIST_SUBSCRIPTIONS", id: "two" });
    expect((await c.waitFor((f) => f.json?.id === "two")).json).toEqual({
      result: ["solusdt@trade", "solusdt@depth"],
      id: "two",
    });
    c.send({ method: "SUBSCRIBE", params: ["solusdt@nonsense"], id: 3 });
    const err = await c.waitFor((f) => f.json?.id === 3);
    expect(err.json).toEqual({ error: { code: 2, msg: "Invalid request: invalid stream" }, id: 3 });
    c.send("{oops");
    const bad = await c.waitFor((f) => f.json?.error?.code === 3);
    expect(bad.json.id).toBeNull();
    await c.waitFor((f) => f.json?.e === "trade" && f.json.s === "SOLUSDT");
    c.close();
  });

  test("REST errors: unknown symbol -1121, rest-status faults 429 (Retry-After) then 418", async () => {
    const bad = await depth("NOPEUSDT", 5);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: -1121, msg: "Invalid symbol." });
    sim.faults.inject({ venue: "binance", fault: "rest-status", status: 429 });
    sim.faults.inject({ venue: "binance", fault: "rest-status", status: 418 });
    const r1 = await depth("BTCUSDT", 5);
    expect(r1.status).toBe(429);
    expect(r1.headers.get("Retry-After")).not.toBeNull();
    expect((await depth("BTCUSDT", 5)).status).toBe(418);
    expect((await depth("BTCUSDT", 5)).status).toBe(200);
    expect(sim.stats().binance.restRequests).toBeGreaterThanOrEqual(4);
  });

  test("drop makes a U gap; server-shutdown sends the event then closes", async () => {
    const c = await TestClient.connect(`${sim.urls.binanceWs}/stream?streams=btcusdt@depth@100ms`);
    const first = await c.collect(isDepth, 2);
    sim.faults.inject({ venue: "binance", fault: "drop", channel: "depth", symbol: "BTCUSDT" });
    const after = await c.collect(isDepth, 2, first.at(-1)!.index + 1);
    const all = [...first, ...after].map(data);
    const gaps = all.slice(1).filter((e, i) => e.U !== all[i].u + 1);
    expect(gaps).toHaveLength(1);
    sim.faults.inject({ venue: "binance", fault: "server-shutdown" });
    const shut = await c.waitFor((f) => f.json?.stream === "!serverShutdown");
    expect(shut.json.data.e).toBe("serverShutdown");
    await c.waitClosed();
  });

  test("server pings every interval; a client that never answers is closed after 3 intervals", async () => {
    const fast = await startSimulator({ binancePingIntervalMs: 50, eventsPerSecond: 0 });
    const url = `${fast.urls.binanceWs}/ws/btcusdt@trade`;
    // Bun's WebSocket answers pings: it stays open well past 3 intervals.
    const live = new WebSocket(url);
    let pings = 0;
    live.addEventListener("ping" as "message", () => pings++);
    await new Promise((r) => live.addEventListener("open", r));
    // Bun's built-in "ws" client can switch automatic pongs off; it ships no type declarations.
    const wsModule = "ws";
    const { WebSocket: WsClient } = (await import(wsModule)) as {
      WebSocket: new (
        url: string,
        opts: { autoPong: boolean },
      ) => { on(event: "close", cb: (code: number) => void): void };
    };
    const mute = new WsClient(url, { autoPong: false });
    const closed = new Promise<number>((r) => mute.on("close", (code: number) => r(code)));
    expect(await closed).toBe(1008);
    while (pings < 6) await new Promise((r) => live.addEventListener("ping" as "message", r, { once: true }));
    expect(live.readyState).toBe(WebSocket.OPEN);
    live.close();
    await fast.stop();
  });

  test("more than 5 messages per second disconnects; connection lifetime cap", async () => {
    const c = await TestClient.connect(`${sim.urls.binanceWs}/ws`);
    for (let i = 0; i < 7; i++) c.send({ method: "LIST_SUBSCRIPTIONS", id: i });
    await c.waitClosed();
    const short = await startSimulator({ binanceMaxConnectionMs: 200, eventsPerSecond: 0 });
    const d = await TestClient.connect(`${short.urls.binanceWs}/ws/btcusdt@trade`);
    await d.waitClosed(2000);
    await short.stop();
  });
});
