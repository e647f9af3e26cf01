// Coinbase Advanced Trade collector settings, read once from the environment into a frozen object.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview
// A bad value fails fast with a message that names the variable.

export type TradeSideMeaning = "taker" | "maker";
export type CoinbaseChannel = "level2" | "market_trades" | "ticker";

export interface CoinbaseConfig {
  readonly url: string;
  /** What market_trades `side` means: the aggressor (taker, our default) or the resting order (maker). */
  readonly tradeSide: TradeSideMeaning;
  /** Data channels to subscribe to (heartbeats is always subscribed: it keeps quiet channels open). */
  readonly channels: readonly CoinbaseChannel[];
  /** Reconnect when nothing at all arrives for this long (heartbeats come every second). */
  readonly idleTimeoutMs: number;
  /** A resync that has not produced a fresh level2 snapshot by then is retried with backoff. */
  readonly snapshotTimeoutMs: number;
  /** Outgoing control messages per second (Coinbase allows 8/s per IP unauthenticated). */
  readonly sendsPerSecond: number;
}

export class CoinbaseConfigError extends Error {
  override name = "CoinbaseConfigError";
}

export const DEFAULT_URL = "wss://advanced-trade-ws.coinbase.com";
const ALL_CHANNELS: readonly CoinbaseChannel[] = ["level2", "market_trades", "ticker"];

export function loadCoinbaseConfig(env: Record<string, string | undefined>): CoinbaseConfig {
  const url = env.COINBASE_WS_URL?.trim() || DEFAULT_URL;
  if (!/^wss?:\/\//.test(url))
    throw new CoinbaseConfigError(`COINBASE_WS_URL=${url}: expected a ws:// or wss:// URL`);

  const side = (env.COINBASE_TRADE_SIDE?.trim() || "taker").toLowerCase();
  if (side !== "taker" && side !== "maker")
    throw new CoinbaseConfigError(
      `COINBASE_TRADE_SIDE=${env.COINBASE_TRADE_SIDE}: expected "taker" or "maker"`,
    );

  let channels = ALL_CHANNELS;
  const rawChannels = env.COINBASE_CHANNELS?.trim();
  if (rawChannels) {
    const names = rawChannels
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const name of names) {
      if (!ALL_CHANNELS.includes(name as CoinbaseChannel))
        throw new CoinbaseConfigError(
          `COINBASE_CHANNELS=${rawChannels}: unknown channel "${name}" (expected some of ${ALL_CHANNELS.join(",")})`,
        );
    }
    channels = ALL_CHANNELS.filter((c) => names.includes(c));
  }

  return Object.freeze({
    url,
    tradeSide: side,
    channels: Object.freeze([...channels]),
    idleTimeoutMs: positiveInt(env, "COINBASE_IDLE_TIMEOUT_MS", 10_000),
    snapshotTimeoutMs: positiveInt(env, "COINBASE_SNAPSHOT_TIMEOUT_MS", 10_000),
    sendsPerSecond: positiveInt(env, "COINBASE_SENDS_PER_SECOND", 6),
  });
}

function positiveInt(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new CoinbaseConfigError(`${name}=${raw}: expected a positive integer`);
  return value;
}
