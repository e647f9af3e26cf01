// `bun bench/archive-export.ts`: the archiver's bulk export alone, quickly. BENCH_TRADES synthetic trades (default
// 2 M) over BENCH_DAYS days (default 6: the rate per day of bench:analytics' 10 M over 30) and one-second book tops
// over the same days (three exchanges), in a scratch database dropped after. Each of BENCH_ROUNDS rounds (default 3):
// a raw COPY of both tables to a file (the reference, pg-copy.ts), then the real Archiver exporting every closed
// partition into an empty archive (manifest emptied). Prints medians, the ratio, and the time in each phase of
// archiver/bulk.ts (exportPhases; the COPY lanes and DuckDB overlap, so the phases add up to more than the wall),
// the CPU the export took (this process: DuckDB and JavaScript; the rest of the machine: Postgres, mostly) and
// the archive's size beside the tables'. BENCH_BEFORE_ROOT=<a checkout of another commit> (with node_modules)
// runs that commit's Archiver too in every round, in alternating order, for an A/B in the same run.
// BENCH_CPU_SPLIT=1 also samples each export's CPU per thread of this process and per Postgres backend status
// (bench/cpu-sampler.ts) and prints the medians.
import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { DuckDBInstance } from "@duckdb/node-api";
import { Archiver } from "../archiver/archiver.ts";
import { exportPhases } from "../archiver/bulk.ts";
import { openExportDuck } from "../archiver/duck.ts";
import { copyOutToFile } from "../archiver/pg-copy.ts";
import { createLogger } from "../lib/log.ts";
import { freshDatabase } from "../lib/testing.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { writeSyntheticTrades } from "./synthetic-trades.ts";

const TRADES = Number(process.env.BENCH_TRADES ?? 2_000_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const start = Date.UTC(2026, 9, 1);
const registry = loadRegistry({});
const log = createLogger({ bench: "archive-export" }, () => {});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const BEFORE_ROOT = process.env.BENCH_BEFORE_ROOT;
const CPU_SPLIT = process.env.BENCH_CPU_SPLIT === "1";

/** Starts bench/cpu-sampler.ts on this process; the returned function stops it and gives its split (s). */
async function startSampler(): Promise<() => Promise<Record<string, number>>> {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "cpu-sampler.ts"), String(process.pid)], {
    stdout: "pipe",
  });
  await Bun.sleep(300); // its first sample
  return async () => {
    proc.kill("SIGTERM");
    return JSON.parse(await new Response(proc.stdout).text());
  };
}

/** Busy CPU ms of the whole machine (from /proc/stat) and of this process. */
function cpu() {
  const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  const u = process.cpuUsage();
  return { machine: busy * 10, self: (u.user + u.system) / 1000 };
}

interface Variant {
  name: string;
  Archiver: typeof Archiver;
  exportPhases: Record<string, number>;
  openExportDuck: typeof openExportDuck;
}
const variants: Variant[] = [{ name: "this commit", Archiver, exportPhases, openExportDuck }];
if (BEFORE_ROOT) {
  const at = (f: string) => join(BEFORE_ROOT, f);
  variants.push({
    name: `before (${BEFORE_ROOT})`,
    Archiver: (await import(at("archiver/archiver.ts"))).Archiver,
    exportPhases: (await import(at("archiver/bulk.ts"))).exportPhases,
    openExportDuck: (await import(at("archiver/duck.ts"))).openExportDuck,
  });
}

const db = await freshDatabase({ prefix: "tw_bench_export", max: 4 });
const scratch = mkdtempSync(join(tmpdir(), "tw-bench-export-"));
try {
  const gen = await (await DuckDBInstance.create(":memory:", { threads: "2" })).connect();
  const spanMs = DAYS * 86_400_000;
  await writeSyntheticTrades(gen, `${scratch}/trades.csv`, { startMs: start, days: DAYS, trades: TRADES });
  const tops = DAYS * 86_400 * 3;
  await gen.run(`COPY (
    SELECT make_timestamp(${start * 1000}::BIGINT + (i // 3) * 1000000)::VARCHAR || '+00' AS time,
      (i % 3) + 1 AS exchange, CASE WHEN i % 3 = 2 THEN 4 ELSE 1 END AS instrument_id,
      (9000000 + (hash(i) % 1000)::BIGINT)::DECIMAL(18,0) / 100 AS bid_price, 1.5 AS bid_size,
      (9000000 + (hash(i) % 1000)::BIGINT + 1 + hash(i * 3) % 50)::DECIMAL(18,0) / 100 AS ask_price, 2.25 AS ask_size
    FROM range(${tops}) t(i)) TO '${scratch}/tops.csv' (HEADER false)`);
  const copyIn = async (statement: string, file: string) =>
    pipeline(createReadStream(file), await db.sql.unsafe(statement).writable());
  await copyIn(
    "COPY trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns) FROM STDIN (FORMAT csv)",
    `${scratch}/trades.csv`,
  );
  await copyIn(
    "COPY book_tops (time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size) FROM STDIN (FORMAT csv)",
    `${scratch}/tops.csv`,
  );
  await db.sql`VACUUM ANALYZE trades`;
  await db.sql`VACUUM ANALYZE book_tops`;
  const total = TRADES + tops;
  console.log(`${TRADES.toLocaleString()} trades + ${tops.toLocaleString()} book tops over ${DAYS} d`);

  const raws: number[] = [];
  const runs = variants.map(() => ({
    ms: [] as number[],
    self: [] as number[],
    others: [] as number[],
    phases: {} as Record<string, number[]>,
    split: {} as Record<string, number[]>,
    hashes: new Set<string>(),
    bytes: 0,
  }));
  const [tables] =
    await db.sql`SELECT pg_total_relation_size('trades')::bigint + pg_total_relation_size('book_tops')::bigint AS bytes`;
  async function exportOnce(v: Variant, run: (typeof runs)[number]) {
    await db.sql`DELETE FROM archive_manifest`;
    const root = mkdtempSync(join(tmpdir(), "tw-bench-export-archive-"));
    const { duck, close } = await v.openExportDuck();
    for (const k of Object.keys(v.exportPhases)) delete v.exportPhases[k];
    try {
      const archiver = new v.Archiver(db.sql, duck, {
        root,
        databaseUrl: db.url,
        intervalS: 3600,
        recheckS: 0,
        registry,
        log,
        now: () => new Date(start + spanMs + 3_600_000),
      });
      const stop = CPU_SPLIT ? await startSampler() : null;
      const c0 = cpu();
      const t0 = performance.now();
      await archiver.runOnce();
      run.ms.push(performance.now() - t0);
      const c1 = cpu();
      if (stop)
        for (const [k, sec] of Object.entries(await stop())) run.split[k] = [...(run.split[k] ?? []), sec];
      run.self.push(c1.self - c0.self);
      run.others.push(c1.machine - c0.machine - (c1.self - c0.self));
      if (archiver.failures > 0) throw new Error("the archiver reported failures");
      const [m] =
        await db.sql`SELECT sum(rows)::bigint AS rows, sum(bytes)::bigint AS bytes FROM archive_manifest`;
      if (Number(m?.rows) !== total) throw new Error(`exported ${m?.rows} rows, expected ${total}`);
      run.bytes = Number(m?.bytes);
      // Every round writes the same bytes (the threads and the lanes' timing differ from round to round).
      const [h] =
        await db.sql`SELECT md5(string_agg(path || sha256, ',' ORDER BY path)) AS h FROM archive_manifest`;
      run.hashes.add(String(h?.h));
      if (run.hashes.size > 1) throw new Error(`${v.name}: a round wrote different bytes`);
    } finally {
      close();
      rmSync(root, { recursive: true, force: true });
    }
    for (const [k, ms] of Object.entries(v.exportPhases)) run.phases[k] = [...(run.phases[k] ?? []), ms];
  }
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    await copyOutToFile(db.url, "COPY trades TO STDOUT (FORMAT csv)", `${scratch}/raw.csv`);
    await copyOutToFile(db.url, "COPY book_tops TO STDOUT (FORMAT csv)", `${scratch}/raw.csv`);
    raws.push(performance.now() - t0);
    rmSync(`${scratch}/raw.csv`, { force: true });
    const order = variants.map((_, k) => k);
    if (r % 2 === 1) order.reverse();
    for (const k of order) await exportOnce(variants[k] as Variant, runs[k] as (typeof runs)[number]);
  }
  const rawMs = median(raws);
  const rate = (ms: number) => Math.round(total / (ms / 1000)).toLocaleString();
  console.log(
    `raw COPY of both tables: ${(rawMs / 1000).toFixed(2)} s = ${rate(rawMs)} rows/s (per round: ${raws.map(rate).join(", ")})`,
  );
  runs.forEach((run, k) => {
    const v = variants[k] as Variant;
    const ms = median(run.ms);
    console.log(
      `export, ${v.name} (Archiver.runOnce): ${(ms / 1000).toFixed(2)} s = ${rate(ms)} rows/s = ${((100 * rawMs) / ms).toFixed(0)}% of raw COPY (per round: ${run.ms.map(rate).join(", ")})`,
    );
    console.log(
      `  CPU: this process ${(median(run.self) / 1000).toFixed(2)} s, the rest of the machine ${(median(run.others) / 1000).toFixed(2)} s; archive ${(run.bytes / 1e6).toFixed(1)} MB = 1/${(Number(tables?.bytes) / run.bytes).toFixed(1)} of the tables (${(Number(tables?.bytes) / 1e6).toFixed(0)} MB)`,
    );
    console.log("  | phase | median ms | share of export wall |\n  |---|---|---|");
    for (const [name, xs] of Object.entries(run.phases))
      console.log(`  | ${name} | ${median(xs).toFixed(0)} | ${((100 * median(xs)) / ms).toFixed(0)}% |`);
    if (CPU_SPLIT) {
      console.log("  | CPU of (median over rounds) | s | µs per row |\n  |---|---|---|");
      for (const [name, xs] of Object.entries(run.split).sort((a, b) => median(b[1]) - median(a[1])))
        if (median(xs) >= 0.05)
          console.log(
            `  | ${name} | ${median(xs).toFixed(2)} | ${((1e6 * median(xs)) / total).toFixed(2)} |`,
          );
    }
  });
  if (runs.length > 1)
    console.log(
      `same bytes as before: ${[...(runs[0]?.hashes ?? [])][0] === [...(runs[1]?.hashes ?? [])][0] ? "yes" : "no"}`,
    );
} finally {
  await db.drop();
  rmSync(scratch, { recursive: true, force: true });
}
