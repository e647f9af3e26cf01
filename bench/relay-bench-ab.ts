// Same-run A/B of relay variants (settings, or another checkout's relay), interleaved in rotating order in every
// round, under one or more CPU layouts, with the C reference in the same rounds:
//
//   flock /work/coord/bench.lock env BENCH_ROUNDS=5 BENCH_LAYOUTS=free,split \
//     BENCH_AB_VARIANTS='aio:TAPEWIRE_RELAY_MULTIWRITE=true;send:TAPEWIRE_RELAY_MULTIWRITE=false;head@/tmp/wt-head' \
//     bun bench/relay-bench-ab.ts
//
// A variant is `name`, then `:VAR=value,VAR=value` (the environment of its relay and of its Bun producer and
// consumers) and/or `@/path/to/checkout` (its relay/main.ts, e.g. a worktree of HEAD; the ends stay this tree's).
// BENCH_AB_RUNS picks the runs per variant (default `bun,cends`):
// `bun` = Bun ends at BENCH_RATE (default 10k/s) latency, `cends` = C ends (relay-bench-ends.c) latency, `thru`
// = C ends at max rate (the relay alone), `thrubun` = Bun ends at max rate. The C reference runs once per round
// and layout: fanlat (and the C ends around the C relay) with any latency run, uds fanout with any throughput
// run. Ratios to the first variant are medians of the per-round ratios (each round's pair shares its stalls).
// /proc/stat steal is read before and after. AB_JSON=<file> writes every round's figures.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { procStat, stealSince } from "./relay-bench.ts";
import { c } from "./relay-bench-c.ts";
import { bunEndsViaCRelay, defaultWarmup, relayLatency, relayThroughput } from "./relay-bench-ours.ts";
import { describeLayout, median, setLayout } from "./relay-bench-procs.ts";

export interface Variant {
  name: string;
  env: Record<string, string>;
  root?: string;
}

/** `name[@root][:VAR=v,VAR=v]` separated by `;`. */
export function parseVariants(text: string): Variant[] {
  return text
    .split(";")
    .filter((s) => s.trim() !== "")
    .map((spec) => {
      const m = /^\s*([\w.-]+)(?:@([^:]+))?(?::(.*))?\s*$/.exec(spec);
      if (!m) throw new Error(`BENCH_AB_VARIANTS: "${spec}" is not name[@root][:VAR=value,...]`);
      const env: Record<string, string> = {};
      for (const kv of (m[3] ?? "").split(",").filter((x) => x !== "")) {
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new Error(`BENCH_AB_VARIANTS: "${kv}" is not VAR=value`);
        env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      return { name: m[1]!, env, root: m[2] };
    });
}

/** Put `env` into process.env (which every spawned Bun end inherits); returns the undo. */
export function setEnv(env: Record<string, string>): () => void {
  const before = Object.entries(env).map(([k]) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of before) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

const RUNS = ["bun", "cends", "thru", "thrubun"] as const;
type Run = (typeof RUNS)[number];

export async function runAb(opts: {
  variants: Variant[];
  layouts: string[];
  rounds: number;
  runs: Run[];
  rate: number;
  frames: number;
  thruFrames: number;
  log: (l: string) => void;
}) {
  const stat0 = procStat();
  const load0 = loadavg()[0]!;
  const work = mkdtempSync(join(tmpdir(), "tapewire-relay-ab-"));
  const rows: Array<Record<string, number | string>> = [];
  let bad = 0;
  const latencyRuns = opts.runs.some((r) => r === "bun" || r === "cends");
  const thruRuns = opts.runs.some((r) => r === "thru" || r === "thrubun");
  try {
    const uds = await c.build(work);
    for (let r = 0; r < opts.rounds; r++) {
      for (const [li, lay] of opts.layouts.entries()) {
        setLayout(lay);
        const row: Record<string, number | string> = { round: r + 1, layout: lay };
        const n = opts.variants.length;
        const order = opts.variants.map((_, i) => opts.variants[(i + r + li) % n]!);
        for (const v of order) {
          const restore = setEnv(v.env);
          const warmup = defaultWarmup(opts.rate); // a variant's BENCH_WARMUP_S sets its own
          for (const run of opts.runs) {
            if (run === "bun" || run === "cends") {
              const l = await relayLatency(
                work,
                3,
                opts.rate,
                opts.frames,
                warmup,
                v.env,
                v.root,
                run === "cends" ? uds.ends : undefined,
              );
              bad += l.bad;
              row[`${v.name}.${run}.p50`] = l.p50;
              row[`${v.name}.${run}.p99`] = l.p99;
            } else {
              const t = await relayThroughput(
                work,
                3,
                opts.thruFrames,
                1024,
                v.env,
                v.root,
                run === "thru" ? uds.ends : undefined,
              );
              bad += t.bad;
              row[`${v.name}.${run}.rate`] = t.inRate;
              row[`${v.name}.${run}.relayNs`] = t.nsPerFrame.relay;
              row[`${v.name}.${run}.journalAtEnd`] = t.journal.atEnd;
              row[`${v.name}.${run}.journalCatchUpMs`] = t.journal.catchUpMs;
              row[`${v.name}.${run}.journalLookMs`] = t.journal.lookMs;
            }
          }
          restore();
        }
        if (latencyRuns) {
          const fl = await uds.fanlat(3, opts.rate, opts.frames);
          row["C.fanlat.p50"] = fl.p50;
          row["C.fanlat.p99"] = fl.p99;
          const cc = await bunEndsViaCRelay(
            work,
            uds,
            3,
            opts.rate,
            opts.frames,
            defaultWarmup(opts.rate),
            uds.ends,
          );
          row["C.cends.p50"] = cc.p50;
          row["C.cends.p99"] = cc.p99;
        }
        if (thruRuns) row["C.fanout.rate"] = await uds.fanout(3, 1024, opts.thruFrames * 3);
        opts.log(
          `round ${r + 1}/${opts.rounds} ${lay}: ${JSON.stringify(row, (_, x) => (typeof x === "number" ? Math.round(x * 10) / 10 : x))}`,
        );
        rows.push(row);
      }
    }
  } finally {
    setLayout("free");
    rmSync(work, { recursive: true, force: true });
  }
  return { rows, bad, steal: stealSince(stat0), loadavg: [load0, loadavg()[0]!] as [number, number] };
}

export function formatAb(
  res: Awaited<ReturnType<typeof runAb>>,
  opts: { variants: Variant[]; layouts: string[]; runs: Run[]; rate: number },
): string {
  const out: string[] = [];
  const base = opts.variants[0]!.name;
  for (const lay of opts.layouts) {
    const rows = res.rows.filter((x) => x.layout === lay);
    const med = (k: string) => median(rows.map((x) => x[k] as number));
    const ratio = (k: string, b: string) => median(rows.map((x) => (x[k] as number) / (x[b] as number)));
    const range = (k: string, b: string) => {
      const v = rows.map((x) => (x[k] as number) / (x[b] as number));
      return `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}`;
    };
    out.push("", `**Layout ${describeLayout(lay)}**, medians of ${rows.length} rounds`, "");
    const cols: string[] = [];
    for (const run of opts.runs) {
      if (run === "bun" || run === "cends") cols.push(`${run}.p50`, `${run}.p99`);
      else cols.push(`${run}.rate`, `${run}.relayNs`, `${run}.journalAtEnd`, `${run}.journalCatchUpMs`);
    }
    const label: Record<string, string> = {
      "bun.p50": `Bun ends p50 @${opts.rate / 1000}k/s`,
      "bun.p99": "Bun ends p99",
      "cends.p50": "C ends p50",
      "cends.p99": "C ends p99",
      "thru.rate": "C ends max, M frames/s",
      "thru.relayNs": "relay ns/frame (C ends)",
      "thru.journalAtEnd": "journal committed ÷ fanned out at the end (C ends)",
      "thru.journalCatchUpMs": "journal all committed, ms after the run (C ends)",
      "thrubun.journalAtEnd": "journal committed ÷ fanned out at the end (Bun ends)",
      "thrubun.journalCatchUpMs": "journal all committed, ms after the run (Bun ends)",
      "thrubun.rate": "Bun ends max, M frames/s",
      "thrubun.relayNs": "relay ns/frame (Bun ends)",
    };
    out.push(
      `| variant | ${cols.map((k) => label[k]).join(" | ")} |`,
      `|---|${cols.map(() => "---").join("|")}|`,
    );
    const fmt = (k: string, v: number) =>
      k.endsWith(".rate") ? (v / 1e6).toFixed(2) : k.endsWith(".journalAtEnd") ? v.toFixed(3) : v.toFixed(1);
    for (const v of opts.variants) {
      out.push(`| ${v.name} | ${cols.map((k) => fmt(k, med(`${v.name}.${k}`))).join(" | ")} |`);
    }
    for (const v of opts.variants.slice(1)) {
      out.push(
        `| ${v.name} ÷ ${base} (per-round median; min–max) | ${cols
          .map(
            (k) =>
              `${ratio(`${v.name}.${k}`, `${base}.${k}`).toFixed(2)}× (${range(`${v.name}.${k}`, `${base}.${k}`)})`,
          )
          .join(" | ")} |`,
      );
    }
    const ref: string[] = [];
    if (rows[0]?.["C.fanlat.p50"] !== undefined) {
      ref.push(
        `uds.c fanlat p50 ${med("C.fanlat.p50").toFixed(1)} µs, p99 ${med("C.fanlat.p99").toFixed(1)} µs;` +
          ` C ends around the C relay p50 ${med("C.cends.p50").toFixed(1)}, p99 ${med("C.cends.p99").toFixed(1)} µs.`,
      );
      for (const v of opts.variants) {
        const parts: string[] = [];
        for (const run of ["bun", "cends"] as const) {
          if (!opts.runs.includes(run)) continue;
          parts.push(
            `${run} p50 ${ratio(`${v.name}.${run}.p50`, "C.fanlat.p50").toFixed(2)}×, p99 ${ratio(`${v.name}.${run}.p99`, "C.fanlat.p99").toFixed(2)}×`,
          );
        }
        ref.push(`${v.name} ÷ fanlat (per-round median): ${parts.join("; ")}.`);
      }
    }
    if (rows[0]?.["C.fanout.rate"] !== undefined) {
      ref.push(`uds.c fanout ${(med("C.fanout.rate") / 1e6).toFixed(2)} M frames/s.`);
      for (const v of opts.variants) {
        const parts: string[] = [];
        for (const run of ["thru", "thrubun"] as const) {
          if (!opts.runs.includes(run)) continue;
          parts.push(`${run} ${ratio(`${v.name}.${run}.rate`, "C.fanout.rate").toFixed(2)}×`);
        }
        ref.push(`${v.name} ÷ fanout (per-round median): ${parts.join("; ")}.`);
      }
    }
    out.push("", ...ref);
  }
  out.push(
    "",
    `Frames lost or out of order: ${res.bad}. Steal ${(res.steal * 100).toFixed(2)}% of CPU time over the run;` +
      ` load average ${res.loadavg[0].toFixed(1)} → ${res.loadavg[1].toFixed(1)} on ${cpus().length} CPUs.`,
  );
  return out.join("\n");
}

if (import.meta.main) {
  const env = process.env;
  const variants = parseVariants(env.BENCH_AB_VARIANTS ?? "");
  if (variants.length === 0) throw new Error("BENCH_AB_VARIANTS: at least one variant");
  const runs = (env.BENCH_AB_RUNS ?? "bun,cends").split(",") as Run[];
  for (const r of runs) if (!RUNS.includes(r)) throw new Error(`BENCH_AB_RUNS: unknown run ${r}`);
  const layouts = (env.BENCH_LAYOUTS ?? env.BENCH_LAYOUT ?? "free").split(",");
  for (const l of layouts) setLayout(l); // validates
  const o = {
    variants,
    layouts,
    runs,
    rounds: Number(env.BENCH_ROUNDS ?? 5),
    rate: Number(env.BENCH_RATE ?? 10_000),
    frames: Number(env.BENCH_LATENCY_FRAMES ?? 20_000),
    thruFrames: Number(env.BENCH_THROUGHPUT_FRAMES ?? 6_000_000),
    log: (l: string) => console.error(l),
  };
  const t0 = performance.now();
  const res = await runAb(o);
  console.log(formatAb(res, o));
  console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  if (env.AB_JSON) await Bun.write(env.AB_JSON, JSON.stringify(res, null, 2));
  process.exit(0);
}
