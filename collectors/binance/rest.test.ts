import { describe, expect, test } from "bun:test";
import { createLogger } from "../../lib/log.ts";
import { CollectorMetrics } from "../core/metrics.ts";
import { readBinanceConfig } from "./config.ts";
import { BinanceMetrics } from "./metrics.ts";
import { BinanceRest, BinanceRestError } from "./rest.ts";

type Reply = { status: number; body: string; headers?: Record<string, string> };

function client(replies: Reply[], env: Record<string, string> = {}, now?: () => number) {
  const urls: string[] = [];
  const times: number[] = [];
  const core = new CollectorMetrics("binance");
  const rest = new BinanceRest(readBinanceConfig({ BINANCE_REST_URL: "http://rest.test/binance", ...env }), {
    fetch: async (url) => {
      urls.push(url);
      times.push(Date.now());
      const r = replies.shift();
      if (!r) throw new Error("connection refused");
      return new Response(r.body, { status: r.status, headers: r.headers });
    },
    now,
    log: createLogger({ test: "rest" }, () => {}),
    metrics: BinanceMetrics.for(core),
  });
  const rendered = () => core.registry.render();
  return { rest, urls, times, rendered };
}

const OK = (weight: number): Reply => ({
  status: 200,
  body: '{"lastUpdateId":1,"bids":[],"asks":[]}',
  headers: { "X-MBX-USED-WEIGHT-1M": String(weight) },
});

describe("BinanceRest", () => {
  test("asks for the configured limit and records the weight the server reports", async () => {
    const c = client([OK(250)], { BINANCE_DEPTH_LIMIT: "100" });
    expect(await c.rest.depth("BTCUSDT")).toBe('{"lastUpdateId":1,"bids":[],"asks":[]}');
    expect(c.urls).toEqual(["http://rest.test/binance/api/v3/depth?symbol=BTCUSDT&limit=100"]);
    expect(c.rest.weight).toBe(250);
    expect(c.rendered()).toContain('tapewire_collector_rest_used_weight{exchange="binance"} 250');
    expect(c.rendered()).toContain(
      'tapewire_collector_rest_requests_total{exchange="binance",status="200"} 1',
    );
  });

  test("holds a request that would pass the weight limit until the next minute", async () => {
    // Clock 100 ms before a minute boundary; the server says 5990 of 6000 is used; limit 1000 costs 50.
    const base = Math.ceil(Date.now() / 60_000) * 60_000 + 60_000;
    const start = Date.now();
    const now = () => base - 100 + (Date.now() - start);
    const c = client([OK(5990), OK(50)], {}, now);
    await c.rest.depth("BTCUSDT");
    await c.rest.depth("BTCUSDT");
    expect(c.times[1]! - c.times[0]!).toBeGreaterThanOrEqual(95);
    expect(c.rendered()).toContain('tapewire_collector_rest_weight_waits_total{exchange="binance"} 1');
  });

  test("429: fails, then sends nothing until Retry-After has passed", async () => {
    const c = client([
      { status: 429, body: '{"code":-1003,"msg":"Too many requests"}', headers: { "Retry-After": "0.3" } },
      OK(10),
    ]);
    const error = await c.rest.depth("BTCUSDT").catch((e) => e);
    expect(error).toBeInstanceOf(BinanceRestError);
    expect([error.status, error.code]).toEqual([429, -1003]);
    await c.rest.depth("BTCUSDT");
    expect(c.times[1]! - c.times[0]!).toBeGreaterThanOrEqual(290);
  });

  test("418: backs off at least BINANCE_418_BACKOFF_MS even when Retry-After is shorter", async () => {
    const c = client(
      [{ status: 418, body: '{"code":-1003,"msg":"IP banned"}', headers: { "Retry-After": "0" } }, OK(10)],
      {
        BINANCE_418_BACKOFF_MS: "400",
      },
    );
    await c.rest.depth("BTCUSDT").catch(() => {});
    await c.rest.depth("BTCUSDT");
    expect(c.times[1]! - c.times[0]!).toBeGreaterThanOrEqual(390);
  });

  test("other failures: Binance's error code, or a network error (status 0)", async () => {
    const c = client([{ status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}' }]);
    const invalid = await c.rest.depth("NOPE").catch((e) => e);
    expect([invalid.status, invalid.code]).toEqual([400, -1121]);
    const network = await c.rest.depth("BTCUSDT").catch((e) => e);
    expect(network).toBeInstanceOf(BinanceRestError);
    expect(network.status).toBe(0);
    expect(c.rendered()).toContain('status="network_error"} 1');
  });
});
