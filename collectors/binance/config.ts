// Binance limits: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md and
// https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md (GET /api/v3/depth weights)
// The collector's Binance settings, read once from the environment into a frozen object. A bad value fails
// at start-up with a message that names the variable.
import type { DepthStream } from "./streams.ts";

export class BinanceConfigError extends Error {
  override name = "BinanceConfigError";
}

export interface BinanceConfig {
  /** Base of the combined-stream URL (no path). */
  wsUrl: string;
  /** Base of the REST API for depth snapshots. */
  restUrl: string;
  /** Which diff depth stream to subscribe. */
  depthStream: DepthStream;
  /** Levels per side in a REST snapshot (1..5000); sets the request weight. */
  depthLimit: number;
  /** The IP's request weight per minute (X-MBX-USED-WEIGHT-1M counts against it). */
  weightLimit: number;
  /** Weight per minute this collector may spend on snapshots (the rest is left for other clients). */
  snapshotWeightPerMinute: number;
  /** How often a GET_PROPERTY keepalive goes out (Binance has no JSON heartbeat). */
  keepaliveMs: number;
  /** Reconnect when nothing at all arrives for this long. */
  idleTimeoutMs: number;
  /** Reconnect before Binance's 24 h cut. */
  maxConnectionMs: number;
  restTimeoutMs: number;
  /** Wait after a 429 without Retry-After. */
  rateLimitBackoffMs: number;
  /** Wait after a 418 (IP ban) without Retry-After: much longer, bans run from 2 minutes to 3 days. */
  banBackoffMs: number;
}

export const DEFAULT_WS_URL = "wss://stream.binance.com:9443";
export const DEFAULT_REST_URL = "https://api.binance.com";

/** Request weight of GET /api/v3/depth for a given limit (rest-api.md). */
export function depthWeight(limit: number): number {
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

export function readBinanceConfig(env: Record<string, string | undefined>): Readonly<BinanceConfig> {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new BinanceConfigError(`${name}=${raw}: expected an integer from ${min} to ${max}`);
    return value;
  };
  const url = (name: string, fallback: string, schemes: string[]): string => {
    const raw = env[name] || fallback;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new BinanceConfigError(`${name}=${raw}: not a URL`);
    }
    if (!schemes.includes(parsed.protocol))
      throw new BinanceConfigError(`${name}=${raw}: expected a ${schemes.join(" or ")} URL`);
    return raw.replace(/\/+$/, "");
  };
  // Binance counts every inbound message (pongs too) against 5 per second; keepalives stay well under it.
  const keepaliveMs = int("BINANCE_KEEPALIVE_MS", 30_000, 250, 600_000);
  const config: BinanceConfig = {
    wsUrl: url("BINANCE_WS_URL", DEFAULT_WS_URL, ["wss:", "ws:"]),
    restUrl: url("BINANCE_REST_URL", DEFAULT_REST_URL, ["https:", "http:"]),
    depthStream: depthStream(env.BINANCE_DEPTH_STREAM),
    depthLimit: int("BINANCE_DEPTH_LIMIT", 1000, 1, 5000),
    weightLimit: int("BINANCE_REST_WEIGHT_LIMIT", 6000, 1, 1_000_000),
    snapshotWeightPerMinute: int("BINANCE_SNAPSHOT_WEIGHT_PER_MIN", 3000, 1, 1_000_000),
    keepaliveMs,
    idleTimeoutMs: int("BINANCE_IDLE_TIMEOUT_MS", Math.max(keepaliveMs * 2.5, 5_000), 500, 3_600_000),
    maxConnectionMs: int("BINANCE_MAX_CONNECTION_MS", 23.5 * 3_600_000, 1_000, 24 * 3_600_000),
    restTimeoutMs: int("BINANCE_REST_TIMEOUT_MS", 10_000, 100, 120_000),
    rateLimitBackoffMs: int("BINANCE_429_BACKOFF_MS", 60_000, 10, 3_600_000),
    banBackoffMs: int("BINANCE_418_BACKOFF_MS", 120_000, 10, 3 * 86_400_000),
  };
  if (config.idleTimeoutMs <= config.keepaliveMs)
    throw new BinanceConfigError(
      `BINANCE_IDLE_TIMEOUT_MS=${config.idleTimeoutMs} must exceed BINANCE_KEEPALIVE_MS=${config.keepaliveMs}`,
    );
  return Object.freeze(config);
}

function depthStream(raw: string | undefined): DepthStream {
  if (raw === undefined || raw === "" || raw === "depth@100ms") return "depth@100ms";
  if (raw === "depth") return "depth";
  throw new BinanceConfigError(`BINANCE_DEPTH_STREAM=${raw}: expected depth@100ms or depth`);
}

/** Snapshots per minute the weight budget allows (the resync scheduler's token rate). */
export function snapshotsPerMinute(config: BinanceConfig): number {
  const budget = Math.min(config.snapshotWeightPerMinute, config.weightLimit);
  return Math.max(1, Math.floor(budget / depthWeight(config.depthLimit)));
}
