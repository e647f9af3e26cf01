// bun run bench:parse — exchange JSON → frames per second for each venue, beside the tardis-dev npm
// normalizers on the same trades in the same run. Medians of interleaved rounds; one core.
import { normalizeTrades } from "tardis-dev";
import { createCollectorContext } from "../collectors/core/context.ts";
import { VENUES } from "../collectors/venues.ts";
import { createLogger } from "../lib/log.ts";
import type { ExchangeName } from "../schema/frame.ts";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../schema/instruments.ts";

const N = Number(process.env.BENCH_PARSE_MESSAGES ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const registry = new InstrumentRegistry(DEFAULT_INSTRUMENTS);

// Realistic prices and sizes, varied so no value is a constant the engine can fold.
const price = (i: number) => (60_000 + (i % 5000) / 10).toFixed(1);
const size = (i: number) => `0.${String(10_000_000 + ((i * 7919) % 89_999_999)).padStart(8, "0")}`;
const iso = (i: number) =>
  new Date(1_790_000_000_000 + i).toISOString().replace("Z", `${String(i % 1000).padStart(3, "0")}Z`);

/** Our venue's message and the equivalent message in the protocol the tardis-dev mapper reads. */
const generators: Record<
  ExchangeName,
  {
    ours(i: number): string;
    theirs(i: number): string;
    tardis: "kraken" | "coinbase" | "binance";
    note: string;
  }
> = {
  kraken: {
    ours: (i) =>
      `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"${i & 1 ? "buy" : "sell"}","price":${price(i)},"qty":${size(i)},"ord_type":"market","trade_id":${i + 1},"timestamp":"${iso(i)}"}]}`,
    // tardis-dev 13.35.3 on npm maps Kraken v1 arrays only.
    theirs: (i) =>
      `[0,[["${price(i)}","${size(i)}","${(1_790_000_000 + i / 1000).toFixed(6)}","${i & 1 ? "b" : "s"}","m",""]],"trade","XBT/USD"]`,
    tardis: "kraken",
    note: "ours: v2 trade object; tardis-dev npm: v1 trade array (its only Kraken mapper)",
  },
  coinbase: {
    ours: (i) =>
      `{"channel":"market_trades","timestamp":"${iso(i)}","sequence_num":${i},"events":[{"type":"update","trades":[{"trade_id":"${i + 1}","product_id":"BTC-USD","price":"${price(i)}","size":"${size(i)}","time":"${iso(i)}","side":"${i & 1 ? "BUY" : "SELL"}"}]}]}`,
    theirs: (i) =>
      `{"type":"match","trade_id":${i + 1},"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","side":"${i & 1 ? "buy" : "sell"}","size":"${size(i)}","price":"${price(i)}","product_id":"BTC-USD","sequence":${i},"time":"${iso(i)}"}`,
    tardis: "coinbase",
    note: "ours: Advanced Trade market_trades; tardis-dev: Exchange feed match (its only Coinbase mapper)",
  },
  binance: {
    ours: (i) =>
      `{"stream":"btcusdt@trade","data":{"e":"trade","E":${1_790_000_000_000_000 + i},"s":"BTCUSDT","t":${i + 1},"p":"${price(i)}0000000","q":"${size(i)}","T":${1_790_000_000_000_000 + i},"m":${i & 1 ? "true" : "false"},"M":true}}`,
    theirs: (i) =>
      `{"stream":"btcusdt@trade","data":{"e":"trade","E":${1_790_000_000_000 + i},"s":"BTCUSDT","t":${i + 1},"p":"${price(i)}0000000","q":"${size(i)}","T":${1_790_000_000_000 + i},"m":${i & 1 ? "true" : "false"},"M":true}}`,
    tardis: "binance",
    note: "same combined-stream trade message (ours with timeUnit=MICROSECOND)",
  },
};

function runOurs(exchange: ExchangeName, messages: string[]): number {
  let frames = 0;
  const ctx = createCollectorContext({
    exchange,
    registry,
    resyncsPerMinute: 60,
    log: createLogger({}, () => {}),
    output: {
      accept(_bytes, length) {
        frames += length / 48;
        return true;
      },
    },
  });
  const adapter = VENUES[exchange]({ registry, env: {} });
  adapter.onOpen?.(ctx);
  const t0 = performance.now();
  for (const m of messages) {
    ctx.emitter.markReceived();
    adapter.onMessage(m, ctx);
  }
  const seconds = (performance.now() - t0) / 1000;
  ctx.resyncs.stop();
  if (frames < messages.length)
    throw new Error(`${exchange}: only ${frames} frames for ${messages.length} messages`);
  return messages.length / seconds;
}

function runTardis(exchange: "kraken" | "coinbase" | "binance", messages: string[]): number {
  const now = new Date();
  const mapper = normalizeTrades(exchange, now);
  let trades = 0;
  const t0 = performance.now();
  for (const m of messages) {
    const parsed = JSON.parse(m);
    if (!mapper.canHandle(parsed)) continue;
    for (const _t of mapper.map(parsed, now) ?? []) trades++;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (trades < messages.length) throw new Error(`tardis ${exchange}: only ${trades} trades`);
  return messages.length / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface ParseBenchRow {
  exchange: ExchangeName;
  oursPerSec: number;
  tardisPerSec: number;
  ratio: number;
  note: string;
}

export function runParseBench(): ParseBenchRow[] {
  const rows: ParseBenchRow[] = [];
  for (const exchange of ["kraken", "coinbase", "binance"] as const) {
    const g = generators[exchange];
    const ours = Array.from({ length: N }, (_, i) => g.ours(i));
    const theirs = Array.from({ length: N }, (_, i) => g.theirs(i));
    runOurs(exchange, ours.slice(0, 20_000)); // warm up both
    runTardis(g.tardis, theirs.slice(0, 20_000));
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      a.push(runOurs(exchange, ours));
      b.push(runTardis(g.tardis, theirs));
    }
    const oursPerSec = median(a);
    const tardisPerSec = median(b);
    rows.push({ exchange, oursPerSec, tardisPerSec, ratio: oursPerSec / tardisPerSec, note: g.note });
  }
  return rows;
}

if (import.meta.main) {
  const rows = runParseBench();
  const fmt = (n: number) => `${(n / 1000).toFixed(0)}k/s`;
  console.log(
    `parse+encode, trade messages, ${N} per round, median of ${ROUNDS} interleaved rounds, Bun ${Bun.version}`,
  );
  console.log("| venue | tapewire | tardis-dev | ratio | note |\n|---|---|---|---|---|");
  for (const r of rows)
    console.log(
      `| ${r.exchange} | ${fmt(r.oursPerSec)} | ${fmt(r.tardisPerSec)} | ${r.ratio.toFixed(2)}x | ${r.note} |`,
    );
}
