// Kraken collector settings, read once from the environment into a frozen object; a bad value fails fast
// with a message naming the variable. Docs: https://docs.kraken.com/api/docs/websocket-v2/book (depths).
import type { InstrumentRegistry } from "../../schema/instruments.ts";

export const KRAKEN_DEFAULT_URL = "wss://ws.kraken.com/v2";
const DEPTHS = [10, 25, 100, 500, 1000];

export interface KrakenConfig {
  readonly url: string;
  readonly bookDepth: number;
  /** Canonical symbols to collect (default: every registry instrument listed on Kraken). */
  readonly symbols: readonly string[];
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  /** A resubscription whose snapshot has not arrived after this long is requested again. */
  readonly resyncTimeoutMs: number;
  readonly resyncsPerMinute: number;
}

export class KrakenConfigError extends Error {
  override name = "KrakenConfigError";
}

function int(env: Record<string, string | undefined>, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new KrakenConfigError(`${name}=${raw}: expected an integer >= ${min}`);
  return n;
}

export function readKrakenConfig(
  env: Record<string, string | undefined>,
  registry: InstrumentRegistry,
): KrakenConfig {
  const url = env.KRAKEN_WS_URL || KRAKEN_DEFAULT_URL;
  if (!/^wss?:\/\//.test(url))
    throw new KrakenConfigError(`KRAKEN_WS_URL=${url}: expected a ws:// or wss:// URL`);
  const bookDepth = int(env, "KRAKEN_BOOK_DEPTH", 10, 1);
  if (!DEPTHS.includes(bookDepth))
    throw new KrakenConfigError(`KRAKEN_BOOK_DEPTH=${bookDepth}: Kraken accepts ${DEPTHS.join(", ")}`);
  const listed = registry.listedOn("kraken");
  let symbols = listed.map((i) => i.symbol);
  const wanted = env.KRAKEN_SYMBOLS?.trim();
  if (wanted) {
    symbols = [];
    for (const name of wanted.split(",").map((s) => s.trim())) {
      const inst = registry.bySymbol(name) ?? registry.byVenueSymbol("kraken", name);
      if (!inst?.venues.kraken)
        throw new KrakenConfigError(
          `KRAKEN_SYMBOLS: ${name} is not an instrument listed on Kraken in the registry`,
        );
      symbols.push(inst.symbol);
    }
  }
  return Object.freeze({
    url,
    bookDepth,
    symbols: Object.freeze(symbols),
    pingIntervalMs: int(env, "KRAKEN_PING_INTERVAL_MS", 30_000, 100),
    idleTimeoutMs: int(env, "KRAKEN_IDLE_TIMEOUT_MS", 15_000, 100),
    resyncTimeoutMs: int(env, "KRAKEN_RESYNC_TIMEOUT_MS", 10_000, 100),
    resyncsPerMinute: int(env, "KRAKEN_RESYNCS_PER_MINUTE", 60, 1),
  });
}
