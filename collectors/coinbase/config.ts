// Coinbase Advanced Trade collector settings, read once from the environment into a frozen object
// (lib/config.ts); a bad value fails fast with a message that names the variable.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview
import { defineConfig, type Env, int, list, oneOf, url } from "../../lib/config.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";

export type TradeSideMeaning = "taker" | "maker";
export type CoinbaseChannel = "level2" | "market_trades" | "ticker";

export const DEFAULT_URL = "wss://advanced-trade-ws.coinbase.com";
export const DEFAULT_REST_URL = "https://api.coinbase.com";
const ALL_CHANNELS: readonly CoinbaseChannel[] = ["level2", "market_trades", "ticker"];

const vars = defineConfig("collector-coinbase", {
  url: url("COINBASE_WS_URL", {
    default: DEFAULT_URL,
    protocols: ["ws:", "wss:"],
    meaning: "Coinbase Advanced Trade market data",
  }),
  restUrl: url("COINBASE_REST_URL", {
    default: DEFAULT_REST_URL,
    protocols: ["http:", "https:"],
    meaning: "Coinbase Advanced Trade public REST (trade backfill)",
  }),
  tradeSide: oneOf("COINBASE_TRADE_SIDE", {
    default: "taker",
    values: ["taker", "maker"],
    meaning: "what market_trades `side` means: the aggressor (taker) or the resting order (maker)",
  }),
  channels: list("COINBASE_CHANNELS", {
    default: ALL_CHANNELS,
    meaning: "data channels (heartbeats is always subscribed)",
    expected: `some of ${ALL_CHANNELS.join(",")}`,
    item: (c) => (ALL_CHANNELS.includes(c as CoinbaseChannel) ? undefined : "a known channel"),
  }),
  idleTimeoutMs: int("COINBASE_IDLE_TIMEOUT_MS", {
    default: 10_000,
    min: 1,
    meaning: "reconnect after this much silence, ms",
  }),
  snapshotTimeoutMs: int("COINBASE_SNAPSHOT_TIMEOUT_MS", {
    default: 10_000,
    min: 1,
    meaning: "a resync without a fresh level2 snapshot by then is retried, ms",
  }),
  sendsPerSecond: int("COINBASE_SENDS_PER_SECOND", {
    default: 6,
    min: 1,
    meaning: "outgoing control messages per second (Coinbase allows 8)",
  }),
  restPerSecond: int("COINBASE_REST_PER_SECOND", {
    default: 5,
    min: 1,
    meaning: "public REST requests per second (Coinbase allows 10)",
  }),
});

export type CoinbaseConfig = Omit<ReturnType<typeof vars.read>, "channels" | "tradeSide"> & {
  readonly channels: readonly CoinbaseChannel[];
  readonly tradeSide: TradeSideMeaning;
};

export function readCoinbaseConfig(env: Env, _registry?: InstrumentRegistry): CoinbaseConfig {
  const config = vars.read(env);
  // Channels in their canonical order, whatever order the variable lists them in.
  const channels = Object.freeze(ALL_CHANNELS.filter((c) => config.channels.includes(c)));
  return Object.freeze({ ...config, channels });
}
