import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../lib/config.ts";
import { depthWeight, readBinanceConfig, snapshotsPerMinute } from "./config.ts";

describe("readBinanceConfig", () => {
  test("defaults are Binance's production endpoints and limits", () => {
    const c = readBinanceConfig({});
    expect(c).toMatchObject({
      wsUrl: "wss://stream.binance.com:9443",
      restUrl: "https://api.binance.com",
      depthStream: "depth@100ms",
      depthLimit: 1000,
      weightLimit: 6000,
      keepaliveMs: 30_000,
      idleTimeoutMs: 75_000,
      maxConnectionMs: 84_600_000,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  test("a bad value fails and names the variable", () => {
    expect(() => readBinanceConfig({ BINANCE_DEPTH_LIMIT: "6000" })).toThrow(
      /BINANCE_DEPTH_LIMIT="6000": expected an integer in 1..5000/,
    );
    expect(() => readBinanceConfig({ BINANCE_WS_URL: "http://x" })).toThrow(
      /BINANCE_WS_URL="http:\/\/x": expected a URL starting wss:\/\/ or ws:\/\//,
    );
    expect(() => readBinanceConfig({ BINANCE_DEPTH_STREAM: "depth5" })).toThrow(ConfigError);
    expect(() =>
      readBinanceConfig({ BINANCE_KEEPALIVE_MS: "10000", BINANCE_IDLE_TIMEOUT_MS: "5000" }),
    ).toThrow(/BINANCE_IDLE_TIMEOUT_MS="5000": expected a value that must exceed BINANCE_KEEPALIVE_MS=10000/);
  });

  test("snapshot rate follows the weight budget and the documented weight per limit", () => {
    expect([100, 101, 500, 501, 1000, 1001, 5000].map(depthWeight)).toEqual([5, 25, 25, 50, 50, 250, 250]);
    expect(snapshotsPerMinute(readBinanceConfig({}))).toBe(60);
    expect(snapshotsPerMinute(readBinanceConfig({ BINANCE_DEPTH_LIMIT: "5000" }))).toBe(12);
    expect(
      snapshotsPerMinute(
        readBinanceConfig({ BINANCE_DEPTH_LIMIT: "100", BINANCE_SNAPSHOT_WEIGHT_PER_MIN: "10000" }),
      ),
    ).toBe(1200);
  });
});
