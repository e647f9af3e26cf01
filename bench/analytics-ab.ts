// A/B of the API's analytics on a kept scratch archive (the bench's density: 333 k trades a day on three
// exchanges, 1-second book tops), so a change is measured against the code or archive before it in one process:
//   bun bench/analytics-ab.ts build            scratch database + archive (compacted day files), kept; state in
//                                              $AB_DIR/state.json (default /tmp/tw-analytics-ab)
//   bun bench/analytics-ab.ts recode <dir>     the archive's files re-encoded by this tree's Parquet writer into
//                                              <dir> under the same paths (the manifest names both); AB_ROW_GROUP
//                                              rows a row group instead of the writer's
//   bun bench/analytics-ab.ts run [ARCH=dir|before=root[,dir] ...]
//                                              interleaved rounds of the 1-day 1-minute OHLCV and the week of
//                                              spreads: each variant is this tree's service on an archive dir, or
//                                              another tree's service (a worktree) on the built archive; the
//                                              Postgres answers once per round as the reference; answers compared
//   bun bench/analytics-ab.ts drop
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import postgres from "postgres";
import { Archiver } from "../archiver/archiver.ts";
import { batchFromDuck, fileBytes } from "../archiver/batch-files.ts";
import { openExportDuck } from "../archiver/duck.ts";
import { CREATED_BY, encodeParquet } from "../archiver/parquet.ts";
import { createLogger } from "../lib/log.ts";
import { freshDatabase } from "../lib/testing.ts";
import { datasetByName, fileMetadata } from "../schema/archive.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { writeSyntheticTrades } from "./synthetic-trades.ts";

const DIR = process.env.AB_DIR ?? "/tmp/tw-analytics-ab";
const DAYS = 7;
const TRADES = Math.round((10_000_000 * DAYS) / 30);
const start = Date.UTC(2026, 9, 1);
const registry = loadRegistry({});
const log = createLogger({ bench: "analytics-ab" }, () => {});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
interface State {
  url: string;
  name: string;
  root: string;
}
const state = (): State => JSON.parse(readFileSync(join(DIR, "state.json"), "utf8"));
const day = new Date(start + 3 * 86_400_000);
const dayEnd = new Date(start + 4 * 86_400_000);
const weekEnd = new Date(start + DAYS * 86_400_000);
const range = (from: Date, to: Date) => ({ from, to, exchanges: [], instruments: [] });

async function build(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const db = await freshDatabase({ prefix: "tw_ab_analytics", max: 4 });
  const root = join(DIR, "archive");
  mkdirSync(root, { recursive: true });
  const gen = await (await DuckDBInstance.create(":memory:", { threads: "2" })).connect();
  await writeSyntheticTrades(gen, `${DIR}/trades.csv`, { startMs: start, days: DAYS, trades: TRADES });
  const tops = DAYS * 86_400;
  await gen.run(`COPY (
    SELECT make_timestamp(${start * 1000}::BIGINT + (i // 3) * 1000000)::VARCHAR || '+00' AS time,
      (i % 3) + 1 AS exchange, CASE WHEN i % 3 = 2 THEN 4 ELSE 1 END AS instrument_id,
      (9000000 + (hash(i) % 1000)::BIGINT)::DECIMAL(18,0) / 100 AS bid_price, 1.5 AS bid_size,
      (9000000 + (hash(i) % 1000)::BIGINT + 1 + hash(i * 3) % 50)::DECIMAL(18,0) / 100 AS ask_price, 2.25 AS ask_size
    FROM range(${tops * 3}) t(i)) TO '${DIR}/tops.csv' (HEADER false)`);
  const { pipeline } = await import("node:stream/promises");
  const { createReadStream } = await import("node:fs");
  const copyIn = async (statement: string, file: string) =>
    pipeline(createReadStream(file), await db.sql.unsafe(statement).writable());
  await copyIn(
    "COPY trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns) FROM STDIN (FORMAT csv)",
    `${DIR}/trades.csv`,
  );
  await copyIn(
    "COPY book_tops (time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size) FROM STDIN (FORMAT csv)",
    `${DIR}/tops.csv`,
  );
  await db.sql`VACUUM ANALYZE trades`;
  await db.sql`VACUUM ANALYZE book_tops`;
  const { duck, close } = await openExportDuck();
  const options = {
    root,
    databaseUrl: db.url,
    intervalS: 3600,
    recheckS: 0,
    registry,
    log,
    now: () => new Date(start + DAYS * 86_400_000 + 3_600_000),
  };
  await new Archiver(db.sql, duck, options).runOnce();
  await new Archiver(db.sql, duck, { ...options, compact: true, compactGraceMs: 0 }).runOnce();
  close();
  await db.sql.end();
  rmSync(`${DIR}/trades.csv`);
  rmSync(`${DIR}/tops.csv`);
  writeFileSync(join(DIR, "state.json"), JSON.stringify({ url: db.url, name: db.name, root }));
  console.log(`built ${db.name}, archive ${root}`);
}

async function recode(to: string): Promise<void> {
  const s = state();
  const sql = postgres(s.url, { max: 1, onnotice: () => {} });
  const duck = await (await DuckDBInstance.create(":memory:", { threads: "2" })).connect();
  await duck.run("SET TimeZone = 'UTC'");
  let bytes = 0;
  for (const r of await sql`SELECT dataset, path FROM archive_manifest ORDER BY path`) {
    const d = datasetByName(String(r.dataset));
    if (!d) throw new Error(String(r.dataset));
    const from = join(s.root, String(r.path));
    const out = join(to, String(r.path));
    mkdirSync(join(out, ".."), { recursive: true });
    const batch = await batchFromDuck(duck, `SELECT * FROM read_parquet('${from}')`, d, false);
    const file = process.env.AB_ROW_GROUP
      ? await encodeParquet(
          batch.columns,
          batch.rows,
          fileMetadata(registry.all),
          CREATED_BY,
          Number(process.env.AB_ROW_GROUP),
        )
      : await fileBytes(batch, null, fileMetadata(registry.all));
    writeFileSync(out, file);
    bytes += file.length;
  }
  await sql.end();
  console.log(`recoded into ${to}: ${(bytes / 1048576).toFixed(1)} MB`);
}

type Service = {
  ohlcv(f: ReturnType<typeof range>, s: number): Promise<{ result: unknown }>;
  spreads(f: ReturnType<typeof range>): Promise<{ result: unknown }>;
  close(): void;
};

async function run(variants: string[]): Promise<void> {
  const s = state();
  const sql = postgres(s.url, { max: 4, onnotice: () => {}, connection: { TimeZone: "UTC" } });
  const rounds = Number(process.env.AB_ROUNDS ?? 11);
  const services: { label: string; svc: Service }[] = [];
  for (const v of variants.length ? variants : [`ARCH=${s.root}`]) {
    // ARCH=<archive dir>, or before=<tree>[,<archive dir>]
    const [kind, spec] = v.split("=") as [string, string];
    const [arg, other] = spec.split(",") as [string, string | undefined];
    const archive = kind === "ARCH" ? arg : (other ?? s.root);
    const path =
      kind === "before"
        ? join(arg, "api/analytics/service.ts")
        : join(import.meta.dir, "../api/analytics/service.ts");
    const m = await import(path);
    services.push({
      label: v,
      svc: new m.AnalyticsService(sql, registry, m.analyticsConfig.read({ ARCHIVE_DIR: archive })),
    });
  }
  const queries = [
    { name: "1-day 1-minute OHLCV", run: (svc: Service) => svc.ohlcv(range(day, dayEnd), 60) },
    { name: "week of spreads", run: (svc: Service) => svc.spreads(range(new Date(start), weekEnd)) },
  ];
  const stat0 = readFileSync("/proc/stat", "utf8").split("\n")[0];
  for (const q of queries) {
    const times = services.map(() => [] as number[]);
    // This process's CPU (DuckDB's threads and the formatting) per request: steadier than wall time on a loaded
    // machine (Postgres's side is not in it: nothing here is live).
    const cpu = services.map(() => [] as number[]);
    for (const { svc } of services) await q.run(svc); // warm
    for (let r = 0; r < rounds; r++) {
      let first: unknown;
      const order = r % 2 ? [...services.keys()].reverse() : [...services.keys()];
      for (const k of order) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const { result } = await q.run((services[k] as { svc: Service }).svc);
        (times[k] as number[]).push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        (cpu[k] as number[]).push((c.user + c.system) / 1000);
        if (first === undefined) first = result;
        else if (!Bun.deepEquals(first, result))
          throw new Error(`${q.name}: ${services[k]?.label} answers differently`);
      }
    }
    const base = median(times[0] as number[]);
    const cpuBase = median(cpu[0] as number[]);
    console.log(`${q.name} (medians of ${rounds}):`);
    services.forEach(({ label }, k) => {
      const m = median(times[k] as number[]);
      console.log(
        `  ${label}: ${m.toFixed(1)} ms (${(m / base).toFixed(3)}x of the first; min ${Math.min(...(times[k] as number[])).toFixed(1)}), CPU ${median(cpu[k] as number[]).toFixed(1)} ms (${(median(cpu[k] as number[]) / cpuBase).toFixed(3)}x)`,
      );
    });
  }
  console.log(`steal: ${steal(stat0, readFileSync("/proc/stat", "utf8").split("\n")[0] as string)}`);
  for (const { svc } of services) svc.close();
  await sql.end();
}

function steal(a: string | undefined, b: string): string {
  const f = (l: string | undefined) => (l ?? "").trim().split(/\s+/).slice(1).map(Number);
  const x = f(a);
  const y = f(b);
  const d = y.map((v, i) => v - (x[i] ?? 0));
  const total = d.reduce((n, v) => n + v, 0);
  return `${((100 * (d[7] ?? 0)) / total).toFixed(1)}% steal, ${((100 * (d[3] ?? 0)) / total).toFixed(1)}% idle over the run`;
}

async function drop(): Promise<void> {
  if (!existsSync(join(DIR, "state.json"))) return;
  const s = state();
  const admin = postgres(s.url.replace(/\/[^/?]+(\?|$)/, "/postgres$1"), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${s.name} WITH (FORCE)`);
  await admin.end();
  rmSync(DIR, { recursive: true, force: true });
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "build") await build();
else if (mode === "recode") await recode(args[0] as string);
else if (mode === "run") await run(args);
else if (mode === "drop") await drop();
else throw new Error("usage: build | recode <dir> | run [variants] | drop");
