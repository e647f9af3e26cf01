// Kraken collector settings, read once from the environment into a frozen object (lib/config.ts); a bad
// value fails fast with a message naming the variable. Docs: https://docs.kraken.com/api/docs/websocket-v2/book
import { ConfigError, defineConfig, type Env, int, list, url } from "../../lib/config.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";

export const KRAKEN_DEFAULT_URL = "wss://ws.kraken.com/v2";
const DEPTHS = [10, 25, 100, 500, 1000];

const vars = defineConfig(
  "collector-kraken",
  {
    url: url("KRAKEN_WS_URL", {
      default: KRAKEN_DEFAULT_URL,
      protocols: ["ws:", "wss:"],
      meaning: "Kraken WebSocket v2",
    }),
    restUrl: url("KRAKEN_REST_URL", {
      default: "https://api.kraken.com",
      protocols: ["http:", "https:"],
      meaning: "Kraken public REST (trade backfill)",
    }),
    bookDepth: int("KRAKEN_BOOK_DEPTH", {
      default: 10,
      min: 1,
      meaning: `book depth subscribed (Kraken accepts ${DEPTHS.join(", ")}); consumers cut books to it`,
    }),
    symbols: list("KRAKEN_SYMBOLS", {
      default: [],
      defaultText: "every registry instrument listed on Kraken",
      meaning: "canonical (or Kraken) symbols to collect",
    }),
    pingIntervalMs: int("KRAKEN_PING_INTERVAL_MS", {
      default: 30_000,
      min: 100,
      meaning: "keepalive ping interval, ms",
    }),
    idleTimeoutMs: int("KRAKEN_IDLE_TIMEOUT_MS", {
      default: 15_000,
      min: 100,
      meaning: "reconnect after this much silence, ms",
    }),
    resyncTimeoutMs: int("KRAKEN_RESYNC_TIMEOUT_MS", {
      default: 10_000,
      min: 100,
      meaning: "a resubscription whose snapshot has not arrived by then is requested again, ms",
    }),
    resyncsPerMinute: int("KRAKEN_RESYNCS_PER_MINUTE", {
      default: 60,
      min: 1,
      meaning: "book resyncs per minute at most",
    }),
  },
  (c) =>
    DEPTHS.includes(c.bookDepth)
      ? []
      : [
          {
            variable: "KRAKEN_BOOK_DEPTH",
            value: String(c.bookDepth),
            expected: `one of ${DEPTHS.join(", ")}`,
          },
        ],
);

export type KrakenConfig = ReturnType<typeof vars.read>;

export function readKrakenConfig(env: Env, registry: InstrumentRegistry): KrakenConfig {
  const config = vars.read(env);
  if (config.symbols.length === 0)
    return Object.freeze({
      ...config,
      symbols: Object.freeze(registry.listedOn("kraken").map((i) => i.symbol)),
    });
  const symbols: string[] = [];
  for (const name of config.symbols) {
    const inst = registry.bySymbol(name) ?? registry.byVenueSymbol("kraken", name);
    if (!inst?.venues.kraken)
      throw new ConfigError("collector-kraken", [
        {
          variable: "KRAKEN_SYMBOLS",
          value: config.symbols.join(","),
          expected: `instruments listed on Kraken in the registry (${name} is not)`,
        },
      ]);
    symbols.push(inst.symbol);
  }
  return Object.freeze({ ...config, symbols: Object.freeze(symbols) });
}
