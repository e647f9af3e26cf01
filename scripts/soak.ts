// `bun run soak`: the whole stack for SOAK_MINUTES (default 60) at a few thousand exchange messages a second,
// with faults on a schedule, every process's RSS, descriptors and sockets sampled every SOAK_SAMPLE_S (10) s
// into a CSV and plotted, and at the end the database checked against every trade the relay delivered and
// against the simulator's ledger. Checks: RSS slope after warm-up < 1 MB per 10 min per process (least
// squares), 0 trades lost or doubled (relay and ledger), descriptors and sockets flat.
// SOAK_WARMUP_S (60): samples before it are left out of the slope and the descriptor baseline.
// SOAK_EVENTS_PER_SECOND (200 per instrument, 18 instruments: about 2,000 exchange messages/s measured).
// SOAK_ARCHIVE_INTERVAL (60): the archiver's partition length in s, so it exports all through the run;
// SOAK_ARCHIVE_RECHECK (600): its recheck window in s, scaled down with the partitions (soak-stack.ts).
// Output in SOAK_OUT (default .data/soak): soak.csv, soak-rss.svg/.png, soak.json. Exit 1 when a check fails.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SlowClient } from "../bridge/slow-client-fixture.ts";
import { waitFor } from "../lib/testing.ts";
import { fetchLedger, type LedgerGap, ledgerGaps, storedTradeKeys } from "./soak-ledger.ts";
import { renderSvg, writePlot } from "./soak-plot.ts";
import {
  CSV_HEADER,
  csvRow,
  type ProcessVerdict,
  type Sample,
  sampleProcess,
  verdicts,
} from "./soak-sample.ts";
import { type SoakStack, startSoakStack } from "./soak-stack.ts";

export interface SoakOptions {
  minutes: number;
  outDir: string;
  /** Simulator market events per second per instrument (18 instruments). */
  eventsPerSecond?: number;
  sampleS?: number;
  /** Samples before this are warm-up: left out of the slope and the descriptor baseline. */
  warmupS?: number;
  say?: (line: string) => void;
}

export interface SoakResult {
  ok: boolean;
  minutes: number;
  warmupS: number;
  simMessagesPerS: number;
  processes: ProcessVerdict[];
  relayTrades: number;
  storedTrades: number;
  lost: number;
  duplicates: number;
  /** Ledger ids (from each symbol's first stored one to the ledger's last) the database lacks; null: no ledger. */
  ledgerMissing: number | null;
  ledgerGaps: LedgerGap[];
  faults: string[];
  slowClientsClosed: number;
  csv: string;
  png: string | null;
}

/** One cycle of faults, seconds from the cycle's start; cycles repeat every CYCLE_S for the whole run. */
const CYCLE_S = 150;
const PLAN: { at: number; name: string; run: (s: SoakStack, ctx: Ctx) => Promise<void> }[] = [
  { at: 20, name: "kraken disconnect", run: (s) => fault(s, { venue: "kraken", fault: "disconnect" }) },
  {
    at: 30,
    name: "kraken corrupt-checksum BTC/USD",
    run: (s) => fault(s, { venue: "kraken", fault: "corrupt-checksum", symbol: "BTC/USD" }),
  },
  {
    at: 40,
    name: "coinbase stall market_trades 5 s",
    run: (s) => fault(s, { venue: "coinbase", fault: "stall", channel: "market_trades", durationMs: 5000 }),
  },
  { at: 50, name: "binance disconnect", run: (s) => fault(s, { venue: "binance", fault: "disconnect" }) },
  { at: 60, name: "slow browser client", run: slowClient },
  { at: 80, name: "database cut", run: (s) => s.proxy.stop() },
  { at: 100, name: "database restored", run: async (s) => void (await s.proxy.start()) },
];

interface Ctx {
  slow: SlowClient[];
  closed: number;
}

async function fault(s: SoakStack, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${s.simOrigin}/_sim/faults`, { method: "POST", body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`fault ${JSON.stringify(body)}: ${res.status} ${await res.text()}`);
}

/** A browser that subscribes to everything and stops reading: the bridge must cut it, not buffer for it. */
async function slowClient(s: SoakStack, ctx: Ctx): Promise<void> {
  const c = await SlowClient.connect(s.bridgePort);
  await c.subscribe({ op: "subscribe" });
  c.pause();
  ctx.slow.push(c);
  void c.closed.then(() => {
    ctx.closed++;
    ctx.slow.splice(ctx.slow.indexOf(c), 1);
    c.destroy();
  });
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const say = opts.say ?? ((l: string) => console.log(l));
  const sampleS = opts.sampleS ?? 10;
  const warmupS = opts.warmupS ?? 60;
  const durationS = opts.minutes * 60;
  mkdirSync(opts.outDir, { recursive: true });
  await using stack = await startSoakStack(opts.eventsPerSecond ?? 200);
  // Ctrl-C or SIGTERM mid-run must not orphan the stack's processes.
  const onSignal = () => {
    for (const p of stack.processes) p.proc.kill("SIGKILL");
    process.exit(130);
  };
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  const started = performance.now();
  const now = () => (performance.now() - started) / 1000;
  const samples: Sample[] = [];
  // The CSV grows as the run goes, so an aborted hour still leaves its samples.
  const csv = join(opts.outDir, "soak.csv");
  writeFileSync(csv, `${CSV_HEADER}\n`);
  let tradesAtLastSample = -1;
  const sampleAll = () => {
    const t = Math.round(now());
    // A soak of a stack that moves nothing proves nothing: trades must reach the relay between samples.
    if (t > 0 && stack.tally.trades === tradesAtLastSample)
      throw new Error(
        `no trade frame reached the relay in the last ${sampleS} s (${stack.tally.trades} in all)`,
      );
    tradesAtLastSample = stack.tally.trades;
    for (const p of stack.processes) {
      const s = sampleProcess(p.proc.pid);
      if (!s) throw new Error(`${p.job} is gone: ${JSON.stringify(p.logs.slice(-5))}`);
      const row = { t, job: p.job, ...s };
      samples.push(row);
      appendFileSync(csv, `${csvRow(row)}\n`);
    }
  };
  const simSent = async () => {
    const stats = (await (await fetch(`${stack.simOrigin}/_sim/stats`)).json()) as Record<
      string,
      { messagesSent?: Record<string, number> }
    >;
    return ["kraken", "coinbase", "binance"].reduce(
      (n, v) => n + Object.values(stats[v]?.messagesSent ?? {}).reduce((a, b) => a + b, 0),
      0,
    );
  };
  const sent0 = await simSent();
  const ctx: Ctx = { slow: [], closed: 0 };
  const done: string[] = [];
  // Every event (sample or fault) in time order; faults stop 20 s before the end so the last one settles.
  const events: { at: number; what: () => Promise<void> }[] = [];
  for (let t = 0; t <= durationS; t += sampleS) events.push({ at: t, what: async () => sampleAll() });
  for (let c = 0; c * CYCLE_S < durationS; c++) {
    for (const f of PLAN) {
      const at = c * CYCLE_S + f.at;
      if (at > durationS - 20 && f.name !== "database restored") continue;
      events.push({
        at,
        what: async () => {
          await f.run(stack, ctx);
          done.push(`${Math.round(now())}s ${f.name}`);
          say(`soak ${Math.round(now())}s: ${f.name}`);
        },
      });
    }
  }
  events.sort((a, b) => a.at - b.at);
  for (const e of events) {
    const wait = e.at - now();
    if (wait > 0) await Bun.sleep(wait * 1000); // the schedule is wall-clock time, nothing to wait on
    await e.what();
    if (e.at % 60 === 0 && e.at > 0) say(`soak ${e.at / 60}/${opts.minutes} min`);
  }
  const simMessagesPerS = Math.round((await simSent()) - sent0) / now();

  // The end: the ledger is read, then (after Coinbase's 250 ms trade batching has sent every id in it) the
  // collectors stop, so the stream has an end to count against; the bridge drains its spool.
  for (const c of ctx.slow.splice(0)) c.destroy();
  const ledger = await fetchLedger(stack.simOrigin).catch(() => null);
  await Bun.sleep(1000); // let the venues' batching publish what the ledger already lists
  await Promise.all(stack.collectors.map((c) => c.stop()));
  const keys = stack.tally.keys;
  const sql = stack.db.sql;
  const rows =
    (await waitFor(
      async () => {
        const m = await storedTradeKeys(sql);
        return [...keys].every((k) => m.has(k)) ? m : null;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: "every relayed trade in the database" },
    ).catch(() => null)) ?? (await storedTradeKeys(sql));
  const lost = [...keys].filter((k) => !rows.has(k)).length;
  const duplicates = [...rows.values()].filter((n) => n > 1).length;
  const gaps = ledger ? await ledgerGaps(sql, ledger) : null;
  const ledgerMissing = gaps ? gaps.reduce((n, g) => n + g.missing, 0) : null;

  // The simulator stands in for the exchanges: it keeps up to 100k trades per book for the REST history and
  // the ledger (sim/venue-book.ts), so its RSS grows until that tape is full. Reported, not checked.
  const processes = verdicts(samples, { warmupS, slopeMbPer10Min: 1, fdSlack: 2, rssUnchecked: ["sim"] });
  const png = writePlot(
    join(opts.outDir, "soak-rss"),
    renderSvg(samples, `tapewire soak: RSS per process, ${opts.minutes} min`, warmupS),
  );
  const result: SoakResult = {
    ok: lost === 0 && duplicates === 0 && ledgerMissing === 0 && processes.every((p) => p.ok),
    minutes: opts.minutes,
    warmupS,
    simMessagesPerS: Math.round(simMessagesPerS),
    processes,
    relayTrades: keys.size,
    storedTrades: rows.size,
    lost,
    duplicates,
    ledgerMissing,
    ledgerGaps: gaps ?? [],
    faults: done,
    slowClientsClosed: ctx.closed,
    csv,
    png,
  };
  process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  for (const p of stack.processes)
    writeFileSync(join(opts.outDir, `${p.job}.log`), `${p.logs.map((l) => JSON.stringify(l)).join("\n")}\n`);
  writeFileSync(join(opts.outDir, "soak.json"), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

if (import.meta.main) {
  const minutes = Number(process.env.SOAK_MINUTES ?? 60);
  if (!(minutes >= 2)) {
    console.error(`SOAK_MINUTES=${process.env.SOAK_MINUTES}: expected a number of minutes, at least 2`);
    process.exit(2);
  }
  const result = await runSoak({
    minutes,
    outDir: resolve(process.env.SOAK_OUT ?? join(import.meta.dir, "..", ".data", "soak")),
    warmupS: process.env.SOAK_WARMUP_S ? Number(process.env.SOAK_WARMUP_S) : undefined,
    eventsPerSecond: process.env.SOAK_EVENTS_PER_SECOND
      ? Number(process.env.SOAK_EVENTS_PER_SECOND)
      : undefined,
  });
  console.log(JSON.stringify(result, null, 2));
  process.exit(result.ok ? 0 : 1);
}
