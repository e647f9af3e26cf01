// Binance limits: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md and
// https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md (GET /api/v3/depth weights)
// The collector's Binance settings, read once from the environment into a frozen object (lib/config.ts). A
// bad value fails at start-up with a message that names the variable.
import { defineConfig, type Env, int, oneOf, url } from "../../lib/config.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";

export const DEFAULT_WS_URL = "wss://stream.binance.com:9443";
export const DEFAULT_REST_URL = "https://api.binance.com";

/** Request weight of GET /api/v3/depth for a given limit (rest-api.md). */
export function depthWeight(limit: number): number {
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

const ms = (name: string, fallback: number, min: number, max: number, meaning: string) =>
  int(name, { default: fallback, min, max, meaning });

const vars = defineConfig(
  "collector-binance",
  {
    wsUrl: url("BINANCE_WS_URL", {
      default: DEFAULT_WS_URL,
      protocols: ["wss:", "ws:"],
      meaning: "Binance spot streams (combined streams are appended)",
    }),
    restUrl: url("BINANCE_REST_URL", {
      default: DEFAULT_REST_URL,
      protocols: ["https:", "http:"],
      meaning: "Binance REST (depth snapshots, trade backfill)",
    }),
    depthStream: oneOf("BINANCE_DEPTH_STREAM", {
      default: "depth@100ms",
      values: ["depth@100ms", "depth"],
      meaning: "diff depth stream: 100 ms or 1000 ms batches",
    }),
    depthLimit: int("BINANCE_DEPTH_LIMIT", {
      default: 1000,
      min: 1,
      max: 5000,
      meaning: "levels per side in a REST snapshot",
    }),
    weightLimit: int("BINANCE_REST_WEIGHT_LIMIT", {
      default: 6000,
      min: 1,
      max: 1_000_000,
      meaning: "the IP's request weight per minute",
    }),
    snapshotWeightPerMinute: int("BINANCE_SNAPSHOT_WEIGHT_PER_MIN", {
      default: 3000,
      min: 1,
      max: 1_000_000,
      meaning: "weight per minute this collector may spend on snapshots",
    }),
    // Binance counts every inbound message (pongs too) against 5 per second; keepalives stay well under it.
    keepaliveMs: ms("BINANCE_KEEPALIVE_MS", 30_000, 250, 600_000, "GET_PROPERTY keepalive interval, ms"),
    idleTimeoutMs: int("BINANCE_IDLE_TIMEOUT_MS", {
      default: undefined,
      min: 500,
      max: 3_600_000,
      defaultText: "2.5 × keepalive (at least 5 s)",
      meaning: "reconnect after this much silence, ms",
    }),
    maxConnectionMs: ms(
      "BINANCE_MAX_CONNECTION_MS",
      23.5 * 3_600_000,
      1_000,
      24 * 3_600_000,
      "reconnect before Binance's 24 h cut, ms",
    ),
    restTimeoutMs: ms("BINANCE_REST_TIMEOUT_MS", 10_000, 100, 120_000, "REST request timeout, ms"),
    rateLimitBackoffMs: ms(
      "BINANCE_429_BACKOFF_MS",
      60_000,
      10,
      3_600_000,
      "wait after a 429 without Retry-After, ms",
    ),
    banBackoffMs: ms(
      "BINANCE_418_BACKOFF_MS",
      120_000,
      10,
      3 * 86_400_000,
      "wait after a 418 (IP ban) without Retry-After, ms",
    ),
  },
  (c) =>
    c.idleTimeoutMs !== undefined && c.idleTimeoutMs <= c.keepaliveMs
      ? [
          {
            variable: "BINANCE_IDLE_TIMEOUT_MS",
            value: String(c.idleTimeoutMs),
            expected: `a value that must exceed BINANCE_KEEPALIVE_MS=${c.keepaliveMs}`,
          },
        ]
      : [],
);

/** The settings, frozen; each field's meaning is in its declaration above. */
export type BinanceConfig = Omit<ReturnType<typeof vars.read>, "idleTimeoutMs"> & {
  readonly idleTimeoutMs: number;
};

export function readBinanceConfig(env: Env, _registry?: InstrumentRegistry): BinanceConfig {
  const c = vars.read(env);
  return Object.freeze({
    ...c,
    wsUrl: c.wsUrl.replace(/\/+$/, ""),
    restUrl: c.restUrl.replace(/\/+$/, ""),
    idleTimeoutMs: c.idleTimeoutMs ?? Math.max(c.keepaliveMs * 2.5, 5_000),
  });
}

/** Snapshots per minute the weight budget allows (the resync scheduler's token rate). */
export function snapshotsPerMinute(config: BinanceConfig): number {
  const budget = Math.min(config.snapshotWeightPerMinute, config.weightLimit);
  return Math.max(1, Math.floor(budget / depthWeight(config.depthLimit)));
}
