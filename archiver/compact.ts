// Compaction: once a UTC day is wholly closed and every partition of it (one dataset × exchange) is verified in
// archive_manifest, its files become one day file, so that analytics over long ranges open ~24× fewer files.
// 1. The day's partition files are fetched (S3: into the cache) and hashed against the manifest's sha256; DuckDB
//    computes each file's facts, which must equal the manifest's source facts for every partition that was
//    never pruned (a pruned one may hold merged late rows; its file is what the manifest's sha256 says).
// 2. DuckDB writes the day file from those files (no Postgres read), sorted by the dataset's order, zstd, the same
//    key-value metadata, one thread: the same partitions give the same bytes. The file is read back and compared
//    with the sum of the partitions' facts (combineFacts), fsync'd and renamed into place (ArchiveStore).
// 3. One Postgres transaction replaces the partitions' manifest rows by one day row, after checking (FOR UPDATE)
//    that they are still exactly the ones compacted, and records the partition files in archive_superseded.
//    Until the commit readers see the partition files; after it, the day file. A reader that read the manifest
//    just before the commit still opens the partition files, so they are deleted only once the grace period
//    (ARCHIVE_COMPACT_GRACE) has passed since the commit (removeSuperseded, every cycle): the row is written
//    with the swap, so a crash or restart loses none, and a file the manifest names again is never deleted.
//    sweepOrphans removes what no row tracks (files left by a compaction from before archive_superseded).
import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import type postgres from "postgres";
import type { Logger } from "../lib/log.ts";
import { type ArchiveDataset, DAY_S, dayPath } from "../schema/archive.ts";
import { EXCHANGE_NAMES } from "../schema/frame.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";
import {
  ArchiveVerifyError,
  combineFacts,
  duckIntegerSums,
  type SourceFacts,
  sameFacts,
  writeVerified,
} from "./export.ts";
import type { ArchiverMetrics } from "./metrics.ts";
import type { ArchiveStore } from "./store.ts";

/** Test hooks: a throw here stands for a crash at that point. */
export interface CompactFaults {
  /** The day file is in place, the manifest not changed yet. */
  afterPlace?: (day: Date) => void;
  /** The manifest has the day row and the partition files are superseded (not deleted: that waits the grace). */
  afterCommit?: (day: Date) => void;
}

export interface CompactContext {
  sql: postgres.Sql;
  duck: DuckDBConnection;
  store: ArchiveStore;
  registry: InstrumentRegistry;
  log: Logger;
  metrics?: ArchiverMetrics;
  faults?: CompactFaults;
}

interface PartitionRow {
  start: Date;
  end: Date;
  path: string;
  rows: number;
  sha256: string;
  source: SourceFacts;
  prunedAt: Date | null;
  verifiedAt: Date;
}

export interface CompactResult {
  compacted: number;
  failed: number;
  /** Partition files the compactions superseded (deleted by removeSuperseded once the grace has passed). */
  superseded: number;
}

const DAY_MS = DAY_S * 1000;
export const dayStartMs = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;
const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const toNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Compact every closed day of `d` whose partitions are all in the manifest: days ending at or before `before`
 * (the start of the open interval) and, when `sinceDay` is given, starting at or after it (the days the cycle's
 * facts covered whole). `skip(exchange, dayMs)` names days the cycle could not verify (an export failed).
 */
export async function compactDays(
  ctx: CompactContext,
  d: ArchiveDataset,
  opts: { before: Date; sinceDay: Date | null; skip: (exchange: number, dayMs: number) => boolean },
): Promise<CompactResult> {
  const lastDayEnd = new Date(dayStartMs(opts.before.getTime()));
  const rows = await ctx.sql`
    SELECT exchange, partition_start, partition_end, path, rows, sha256, source_rows, source_min_us, source_max_us,
      source_fingerprint, pruned_at, verified_at FROM archive_manifest
    WHERE dataset = ${d.name} AND partition_end - partition_start < interval '1 day' AND partition_end <= ${lastDayEnd}
      ${opts.sinceDay ? ctx.sql`AND partition_start >= ${opts.sinceDay}` : ctx.sql``}
    ORDER BY exchange, partition_start`;
  const days = new Map<string, { exchange: number; day: number; parts: PartitionRow[] }>();
  for (const r of rows) {
    const start = new Date(r.partition_start);
    const day = dayStartMs(start.getTime());
    const k = `${r.exchange}:${day}`;
    const group = days.get(k) ?? { exchange: Number(r.exchange), day, parts: [] };
    group.parts.push({
      start,
      end: new Date(r.partition_end),
      path: String(r.path),
      rows: Number(r.rows),
      sha256: String(r.sha256),
      source: {
        rows: Number(r.source_rows),
        minUs: toNum(r.source_min_us),
        maxUs: toNum(r.source_max_us),
        fingerprint: String(r.source_fingerprint),
      },
      prunedAt: r.pruned_at ? new Date(r.pruned_at) : null,
      verifiedAt: new Date(r.verified_at),
    });
    days.set(k, group);
  }
  const out: CompactResult = { compacted: 0, failed: 0, superseded: 0 };
  for (const g of days.values()) {
    if (opts.skip(g.exchange, g.day)) continue;
    // Retention prunes partition by partition: a day part pruned (or pruned, then merged with late rows that
    // are not pruned yet) waits until its partitions agree, so the day row's pruned_at is true of all its rows.
    const pruned = g.parts.filter((p) => p.prunedAt !== null);
    const settled = pruned.every((p) => p.verifiedAt.getTime() <= (p.prunedAt as Date).getTime());
    if ((pruned.length > 0 && pruned.length < g.parts.length) || !settled) {
      ctx.log.debug("compaction waits: the day is partly pruned", { dataset: d.name, exchange: g.exchange });
      continue;
    }
    try {
      await compactDay(ctx, d, g.exchange, new Date(g.day), g.parts, pruned.length > 0);
      out.compacted++;
      out.superseded += g.parts.length;
    } catch (error) {
      out.failed++;
      ctx.metrics?.compactionFailed(d.name);
      ctx.log.error("day compaction failed", {
        dataset: d.name,
        exchange: g.exchange,
        day: new Date(g.day).toISOString(),
        error,
      });
    }
  }
  return out;
}

/** Per-file facts over a list of local files, by file name. */
async function filesFacts(
  duck: DuckDBConnection,
  d: ArchiveDataset,
  files: readonly string[],
): Promise<Map<string, SourceFacts>> {
  const sums = duckIntegerSums(d);
  const reader = await duck.runAndReadAll(
    `SELECT filename, count(*)::BIGINT, epoch_us(min(time)), epoch_us(max(time)), concat_ws(':', count(*)::VARCHAR, ${sums.join(", ")})
     FROM read_parquet([${files.map(sqlString).join(", ")}], hive_partitioning = false, filename = true) GROUP BY filename`,
  );
  return new Map(
    reader
      .getRows()
      .map((r) => [
        String(r[0]),
        { rows: Number(r[1]), minUs: toNum(r[2]), maxUs: toNum(r[3]), fingerprint: String(r[4]) },
      ]),
  );
}

/** Steps 1 and 2 of a day: the partitions' files (under `root`) checked, the day file written and placed. */
async function writeDay(
  ctx: CompactContext,
  d: ArchiveDataset,
  path: string,
  exchangeName: string,
  day: Date,
  parts: PartitionRow[],
  root: string,
): Promise<{ file: Awaited<ReturnType<typeof writeVerified>>; source: SourceFacts }> {
  const locals: string[] = [];
  for (const p of parts) {
    const local = join(root, p.path);
    const sha = createHash("sha256").update(readFileSync(local)).digest("hex");
    if (sha !== p.sha256)
      throw new ArchiveVerifyError(`${p.path}: sha256 ${sha}, the manifest says ${p.sha256}`);
    locals.push(local);
  }
  const facts = await filesFacts(ctx.duck, d, locals);
  let expected: SourceFacts | null = null;
  let source: SourceFacts | null = null;
  for (const [k, p] of parts.entries()) {
    const f = facts.get(locals[k] as string);
    if (!f || f.rows !== p.rows)
      throw new ArchiveVerifyError(`${p.path}: read ${f?.rows ?? 0} rows, the manifest says ${p.rows}`);
    if (p.prunedAt === null && !sameFacts(f, p.source))
      throw new ArchiveVerifyError(`${p.path}: the file's facts differ from the manifest's source facts`);
    expected = expected ? combineFacts(expected, f) : f;
    source = source ? combineFacts(source, p.source) : p.source;
  }
  if (!expected || !source) throw new Error("compaction of a day without partitions");
  // 2. The day file, verified and placed.
  const order = d.orderBy.replaceAll("t.", "");
  const select = `SELECT ${d.columns.map((c) => c.name).join(", ")} FROM read_parquet([${locals.map(sqlString).join(", ")}], hive_partitioning = false) ORDER BY ${order}`;
  // A fixed name: a crash's leftover is overwritten by the next attempt.
  const tmp = join(ctx.store.tmpDir(), `compact-${d.name}-${exchangeName}-${day.getTime()}.parquet`);
  rmSync(tmp, { force: true });
  const file = await writeVerified(ctx.duck, ctx.store, ctx.registry, d, path, select, expected, tmp);
  return { file, source };
}

/** Compact one day: the day file placed, the manifest swapped, the partition files superseded. */
async function compactDay(
  ctx: CompactContext,
  d: ArchiveDataset,
  exchange: number,
  day: Date,
  parts: PartitionRow[],
  pruned: boolean,
): Promise<void> {
  const exchangeName = EXCHANGE_NAMES[exchange];
  if (!exchangeName) throw new Error(`unknown exchange ${exchange}`);
  const path = dayPath(d.name, exchangeName, day);
  // 1. The partitions' files, each exactly the bytes the manifest verified (S3: leased from the cache, so its
  //    bound evicts none of them before the day file is written).
  const lease = await ctx.store.lease(parts);
  let written: Awaited<ReturnType<typeof writeDay>>;
  try {
    written = await writeDay(ctx, d, path, exchangeName, day, parts, lease.root);
  } finally {
    lease.release();
  }
  const { file, source: src } = written;
  ctx.faults?.afterPlace?.(day);
  // 3. The manifest: the partitions' rows out, the day row in, if nothing changed them meanwhile.
  const dayEnd = new Date(day.getTime() + DAY_MS);
  await ctx.sql.begin(async (tx) => {
    const now = await tx`
      SELECT partition_start, sha256, source_fingerprint, pruned_at FROM archive_manifest
      WHERE dataset = ${d.name} AND exchange = ${exchange} AND partition_start >= ${day} AND partition_start < ${dayEnd}
      ORDER BY partition_start FOR UPDATE`;
    const same =
      now.length === parts.length &&
      now.every((r, k) => {
        const p = parts[k] as PartitionRow;
        return (
          new Date(r.partition_start).getTime() === p.start.getTime() &&
          r.sha256 === p.sha256 &&
          r.source_fingerprint === p.source.fingerprint &&
          (r.pruned_at === null) === (p.prunedAt === null)
        );
      });
    if (!same)
      throw new Error(`${path}: the day's manifest rows changed during compaction; retried next cycle`);
    await tx`DELETE FROM archive_manifest
      WHERE dataset = ${d.name} AND exchange = ${exchange} AND partition_start >= ${day} AND partition_start < ${dayEnd}`;
    // A pruned day (every partition pruned, none holding merged rows not pruned yet): pruned_at = verified_at,
    // so retention does not take it for a re-export waiting to be pruned.
    await tx`
      INSERT INTO archive_manifest (dataset, exchange, partition_start, partition_end, path, rows, bytes, sha256,
        source_rows, source_min_us, source_max_us, source_fingerprint, pruned_at, verified_at)
      VALUES (${d.name}, ${exchange}, ${day}, ${dayEnd}, ${file.path}, ${file.file.rows}, ${file.bytes}, ${file.sha256},
        ${src.rows}, ${src.minUs}, ${src.maxUs}, ${src.fingerprint}, ${pruned ? tx`now()` : null}, now())`;
    // The partition files stay for the grace period (readers of the manifest before this commit open them).
    const paths = parts.map((p) => p.path);
    await tx`
      INSERT INTO archive_superseded (path, dataset, superseded_at)
      SELECT unnest(${paths}::text[]), ${d.name}, now()
      ON CONFLICT (path) DO UPDATE SET dataset = excluded.dataset, superseded_at = excluded.superseded_at`;
  });
  ctx.metrics?.compacted(d.name);
  ctx.log.info("day compacted", {
    dataset: d.name,
    exchange,
    day: day.toISOString().slice(0, 10),
    partitions: parts.length,
    rows: file.file.rows,
    bytes: file.bytes,
  });
  ctx.faults?.afterCommit?.(day);
}

/**
 * In the transaction of a manifest upsert, before it: the files its rows replace under another name (a
 * re-export with other rows gets a new content-addressed name, schema/archive.ts contentPath) are superseded
 * like a compaction's partition files, so a reader that resolved the old row still finds the old file for the
 * grace period, and removeSuperseded deletes it after.
 */
export async function supersedeReplaced(
  tx: postgres.TransactionSql,
  dataset: string,
  rows: readonly { exchange: number; start: Date; path: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx`
    INSERT INTO archive_superseded (path, dataset, superseded_at)
    SELECT m.path, m.dataset, now() FROM archive_manifest m
    JOIN unnest(${rows.map((r) => r.exchange)}::smallint[], ${rows.map((r) => r.start.toISOString())}::timestamptz[],
      ${rows.map((r) => r.path)}::text[]) AS n(exchange, start, path)
      ON m.exchange = n.exchange AND m.partition_start = n.start
    WHERE m.dataset = ${dataset} AND m.path <> n.path
    ON CONFLICT (path) DO UPDATE SET dataset = excluded.dataset, superseded_at = excluded.superseded_at`;
}

/**
 * Delete the superseded files of `d` whose grace period is over (superseded at least `graceMs` ago, by the
 * database's clock, the one that stamped them), then their rows; a file the manifest names again is never
 * deleted (its row goes, the file stays). A failed or interrupted deletion keeps the rows: the next cycle
 * deletes again (a missing file is not an error). Returns the number of files deleted.
 */
export async function removeSuperseded(
  ctx: Pick<CompactContext, "sql" | "store" | "log" | "metrics">,
  d: ArchiveDataset,
  graceMs: number,
): Promise<number> {
  await ctx.sql`DELETE FROM archive_superseded s WHERE s.dataset = ${d.name}
    AND EXISTS (SELECT 1 FROM archive_manifest m WHERE m.path = s.path)`;
  const due = await ctx.sql`
    SELECT s.path FROM archive_superseded s
    WHERE s.dataset = ${d.name} AND s.superseded_at <= now() - ${graceMs}::bigint * interval '1 millisecond'
      AND NOT EXISTS (SELECT 1 FROM archive_manifest m WHERE m.path = s.path)
    ORDER BY s.path LIMIT 10000`;
  if (due.length === 0) return 0;
  const paths = due.map((r) => String(r.path));
  await ctx.store.remove(paths);
  await ctx.sql`DELETE FROM archive_superseded WHERE path = ANY(${paths}::text[])`;
  ctx.metrics?.compactedFilesRemoved(d.name, paths.length);
  ctx.log.info("superseded partition files deleted after the grace period", {
    dataset: d.name,
    files: paths.length,
    graceMs,
  });
  return paths.length;
}

/**
 * Delete files that a day row replaced and that nothing tracks: every file under a compacted day's `date=`
 * folder other than the day file, unless the manifest names it or archive_superseded holds it (its grace
 * period may not be over: removeSuperseded deletes it in time). Such files come from a compaction made before
 * archive_superseded existed. Returns the number deleted.
 */
export async function sweepOrphans(ctx: CompactContext, d: ArchiveDataset): Promise<number> {
  const dayRows = await ctx.sql`
    SELECT exchange, path FROM archive_manifest
    WHERE dataset = ${d.name} AND partition_end - partition_start = interval '1 day' AND path LIKE '%/hour=all/%'`;
  const keep = new Map<string, string>(); // date folder → its day file
  const prefix = `${d.name}/%`;
  const tracked = new Set(
    (
      await ctx.sql`SELECT path FROM archive_manifest WHERE path LIKE ${prefix}
        UNION SELECT path FROM archive_superseded WHERE path LIKE ${prefix}`
    ).map((r) => String(r.path)),
  );
  const exchanges = new Set<number>();
  for (const r of dayRows) {
    const path = String(r.path);
    keep.set(path.slice(0, path.indexOf("/hour=all/") + 1), path);
    exchanges.add(Number(r.exchange));
  }
  let removed = 0;
  for (const exchange of exchanges) {
    const name = EXCHANGE_NAMES[exchange];
    if (!name) continue;
    const orphans = (await ctx.store.files(`${d.name}/exchange=${name}/`)).filter((f) => {
      if (!f.endsWith(".parquet")) return false;
      const at = f.indexOf("/date=");
      const folder = f.slice(0, f.indexOf("/", at + 1) + 1);
      const day = keep.get(folder);
      return day !== undefined && day !== f && !tracked.has(f);
    });
    if (orphans.length === 0) continue;
    await ctx.store.remove(orphans);
    removed += orphans.length;
    ctx.metrics?.compactedFilesRemoved(d.name, orphans.length);
    ctx.log.info("compacted partition files left by an earlier cycle deleted", {
      dataset: d.name,
      exchange,
      files: orphans.length,
    });
  }
  return removed;
}
