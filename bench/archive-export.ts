// `bun bench/archive-export.ts`: the archiver's bulk export alone, quickly. BENCH_TRADES synthetic trades (default
// 2 M) over BENCH_DAYS days (default 6: the rate per day of bench:analytics' 10 M over 30) and one-second book tops
// over the same days (three exchanges), in a scratch database dropped after. Each of BENCH_ROUNDS rounds (default 3):
// a raw COPY of both tables to a file (the reference, pg-copy.ts), then the real Archiver exporting every closed
// partition into an empty archive (manifest emptied). Prints medians, the ratio, and the time in each phase of
// archiver/bulk.ts (exportPhases; the COPY lanes and DuckDB overlap, so the phases add up to more than the wall).
import { createReadStream, mkdtempSync, rmSync } from "node:fs";
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
  const exports: number[] = [];
  const phases: Record<string, number[]> = {};
  const hashes = new Set<string>();
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = performance.now();
    await copyOutToFile(db.url, "COPY trades TO STDOUT (FORMAT csv)", `${scratch}/raw.csv`);
    await copyOutToFile(db.url, "COPY book_tops TO STDOUT (FORMAT csv)", `${scratch}/raw.csv`);
    raws.push(performance.now() - t0);
    rmSync(`${scratch}/raw.csv`, { force: true });

    await db.sql`DELETE FROM archive_manifest`;
    const root = mkdtempSync(join(tmpdir(), "tw-bench-export-archive-"));
    const { duck, close } = await openExportDuck();
    for (const k of Object.keys(exportPhases)) delete exportPhases[k];
    try {
      const archiver = new Archiver(db.sql, duck, {
        root,
        databaseUrl: db.url,
        intervalS: 3600,
        recheckS: 0,
        registry,
        log,
        now: () => new Date(start + spanMs + 3_600_000),
      });
      t0 = performance.now();
      await archiver.runOnce();
      exports.push(performance.now() - t0);
      if (archiver.failures > 0) throw new Error("the archiver reported failures");
      const [m] = await db.sql`SELECT sum(rows)::bigint AS rows FROM archive_manifest`;
      if (Number(m?.rows) !== total) throw new Error(`exported ${m?.rows} rows, expected ${total}`);
      // Every round writes the same bytes (the threads and the lanes' timing differ from round to round).
      const [h] =
        await db.sql`SELECT md5(string_agg(path || sha256, ',' ORDER BY path)) AS h FROM archive_manifest`;
      hashes.add(String(h?.h));
      if (hashes.size > 1) throw new Error("a round wrote different bytes");
    } finally {
      close();
      rmSync(root, { recursive: true, force: true });
    }
    for (const [k, v] of Object.entries(exportPhases)) phases[k] = [...(phases[k] ?? []), v];
  }
  const rawMs = median(raws);
  const exportMs = median(exports);
  console.log(
    `raw COPY of both tables: ${(rawMs / 1000).toFixed(2)} s = ${Math.round(total / (rawMs / 1000)).toLocaleString()} rows/s`,
  );
  console.log(
    `export (Archiver.runOnce): ${(exportMs / 1000).toFixed(2)} s = ${Math.round(total / (exportMs / 1000)).toLocaleString()} rows/s = ${((100 * rawMs) / exportMs).toFixed(0)}% of raw COPY`,
  );
  console.log("| phase | median ms | share of export wall |\n|---|---|---|");
  for (const [k, v] of Object.entries(phases))
    console.log(`| ${k} | ${median(v).toFixed(0)} | ${((100 * median(v)) / exportMs).toFixed(0)}% |`);
} finally {
  await db.drop();
  rmSync(scratch, { recursive: true, force: true });
}
