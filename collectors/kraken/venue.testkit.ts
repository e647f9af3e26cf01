// Test support for the Kraken adapter: a context over a registry with the doc-example pairs, message
// builders in Kraken's wire form, and the checksum computed the guide's way on text (independent of
// checksum.ts). Docs: https://docs.kraken.com/api/docs/guides/spot-ws-book-v2
import { readFileSync } from "node:fs";
import { formatFixed, parseFixed } from "../../schema/decimal.ts";
import { DEFAULT_INSTRUMENTS, type Instrument, InstrumentRegistry } from "../../schema/instruments.ts";
import { createTestContext, type TestContext } from "../core/testing.testkit.ts";
import { KrakenAdapter } from "./adapter.ts";
import { crc32Text } from "./checksum.ts";
import { readKrakenConfig } from "./config.ts";

export const fixture = (name: string) => readFileSync(`${import.meta.dir}/fixtures/${name}`, "utf8").trim();

export const MATIC: Instrument = {
  id: 1000,
  symbol: "MATIC-USD",
  base: "MATIC",
  quote: "USD",
  priceDecimals: 6,
  sizeDecimals: 8,
  venues: { kraken: { symbol: "MATIC/USD", pricePrecision: 4, qtyPrecision: 8 } },
};

export interface Harness extends TestContext {
  adapter: KrakenAdapter;
  registry: InstrumentRegistry;
  send(message: string): void;
  parseErrors(reason?: string): number;
}

export function harness(
  env: Record<string, string | undefined> = {},
  extra: Instrument[] = [MATIC],
): Harness {
  const registry = new InstrumentRegistry([...DEFAULT_INSTRUMENTS, ...extra]);
  const t = createTestContext("kraken", registry);
  const adapter = new KrakenAdapter(readKrakenConfig(env, registry), registry);
  adapter.onOpen(t.ctx);
  return {
    ...t,
    adapter,
    registry,
    send(message) {
      t.ctx.emitter.markReceived();
      adapter.onMessage(message, t.ctx);
    },
    parseErrors(reason) {
      let n = 0;
      for (const line of t.ctx.metrics.registry.render().split("\n")) {
        if (!line.startsWith("tapewire_collector_parse_errors_total")) continue;
        if (reason === undefined || line.includes(`reason="${reason}"`)) n += Number(line.split(" ").pop());
      }
      return n;
    },
  };
}

/** Levels as [price text, qty text] exactly as they go on the wire. */
export type Levels = Array<[string, string]>;

export function bookMessage(
  type: "snapshot" | "update",
  symbol: string,
  bids: Levels,
  asks: Levels,
  checksum: number,
): string {
  const side = (l: Levels) => `[${l.map(([p, q]) => `{"price":${p},"qty":${q}}`).join(",")}]`;
  return `{"channel":"book","type":"${type}","data":[{"symbol":"${symbol}","bids":${side(bids)},"asks":${side(asks)},"checksum":${checksum},"timestamp":"2023-10-06T17:35:55.440295Z"}]}`;
}

/**
 * A book kept as text at Kraken's precision, updated the way the docs say (apply in order, qty 0 deletes,
 * truncate to depth), with the checksum computed on the text.
 */
export class TextBook {
  bids = new Map<string, string>();
  asks = new Map<string, string>();

  constructor(
    private readonly pp: number,
    private readonly qp: number,
    private readonly depth = 10,
  ) {}

  private norm(v: string, p: number): string {
    return formatFixed(parseFixed(v, p), p, false);
  }

  apply(bids: Levels, asks: Levels): void {
    for (const [side, levels] of [
      [this.bids, bids],
      [this.asks, asks],
    ] as const) {
      for (const [p, q] of levels) {
        const price = this.norm(p, this.pp);
        if (parseFixed(q, this.qp) === 0) side.delete(price);
        else side.set(price, this.norm(q, this.qp));
      }
    }
    this.bids = new Map(this.sorted(this.bids, true).slice(0, this.depth));
    this.asks = new Map(this.sorted(this.asks, false).slice(0, this.depth));
  }

  private sorted(side: Map<string, string>, desc: boolean): Array<[string, string]> {
    return [...side.entries()].sort((a, b) => {
      const d = parseFixed(a[0], this.pp) - parseFixed(b[0], this.pp);
      return desc ? -d : d;
    });
  }

  checksum(): number {
    const digits = (v: string) => v.replace(".", "").replace(/^0+/, "");
    const side = (s: Array<[string, string]>) =>
      s
        .slice(0, 10)
        .map(([p, q]) => digits(p) + digits(q))
        .join("");
    return crc32Text(side(this.sorted(this.asks, false)) + side(this.sorted(this.bids, true)));
  }
}

/** The MATIC/USD doc snapshot's levels, as printed in the fixture. */
export function maticSnapshotLevels(): { bids: Levels; asks: Levels } {
  const doc = JSON.parse(fixture("v2_docs_book_snapshot_MATICUSD.json")) as {
    data: Array<{ bids: Array<{ price: number; qty: number }>; asks: Array<{ price: number; qty: number }> }>;
  };
  // The doc numbers are short enough that String() gives their text back (e.g. 0.566, 18097.1547).
  const levels = (l: Array<{ price: number; qty: number }>): Levels =>
    l.map((x) => [String(x.price), String(x.qty)]);
  return { bids: levels(doc.data[0]!.bids), asks: levels(doc.data[0]!.asks) };
}
