// Test helpers for the Binance adapter: an adapter on an in-memory context, and message builders.
import { DEFAULT_INSTRUMENTS, type Instrument, InstrumentRegistry } from "../../schema/instruments.ts";
import { createTestContext, type TestContext } from "../core/testing.testkit.ts";
import { BinanceAdapter, type BinanceAdapterOptions } from "./adapter.ts";
import { readBinanceConfig } from "./config.ts";

export interface Kit {
  adapter: BinanceAdapter;
  t: TestContext;
  send(text: string): void;
  /** Parse errors counted so far, by reason. */
  errors(): Record<string, number>;
  metric(name: string): number;
}

export function makeKit(
  options: BinanceAdapterOptions = {},
  env: Record<string, string> = {},
  extra: Instrument[] = [],
): Kit {
  const registry = new InstrumentRegistry([...DEFAULT_INSTRUMENTS, ...extra]);
  const t = createTestContext("binance", registry);
  const adapter = new BinanceAdapter(readBinanceConfig(env), registry, {
    fetchSnapshot: () => new Promise<string>(() => {}),
    ...options,
  });
  const metric = (name: string) => {
    let total = 0;
    for (const line of t.ctx.metrics.registry.render().split("\n"))
      if (line.startsWith(`tapewire_${name}`) && !line.startsWith("#"))
        total += Number(line.split(" ").pop());
    return total;
  };
  return {
    adapter,
    t,
    send(text) {
      t.ctx.emitter.markReceived();
      adapter.onMessage(text, t.ctx);
    },
    errors() {
      const out: Record<string, number> = {};
      for (const line of t.ctx.metrics.registry.render().split("\n")) {
        const m = /^tapewire_collector_parse_errors_total\{.*reason="([^"]+)".*\} (\d+)/.exec(line);
        if (m) out[m[1]!] = Number(m[2]);
      }
      return out;
    },
    metric,
  };
}

export const trade = (
  symbol: string,
  t: number,
  p: string,
  q: string,
  m: boolean,
  time = 1790649901913123,
): string =>
  `{"stream":"${symbol.toLowerCase()}@trade","data":{"e":"trade","E":${time},"s":"${symbol}","t":${t},"p":"${p}","q":"${q}","T":${time},"m":${m},"M":true}}`;

export const depth = (
  symbol: string,
  U: number,
  u: number,
  bids: Array<[string, string]>,
  asks: Array<[string, string]>,
  E = 1790649901913123,
): string =>
  `{"stream":"${symbol.toLowerCase()}@depth@100ms","data":{"e":"depthUpdate","E":${E},"s":"${symbol}","U":${U},"u":${u},"b":${JSON.stringify(bids)},"a":${JSON.stringify(asks)}}}`;

export const snapshot = (
  lastUpdateId: number,
  bids: Array<[string, string]>,
  asks: Array<[string, string]>,
) => JSON.stringify({ lastUpdateId, bids, asks });
