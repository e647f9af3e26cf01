// Retention (TAPEWIRE_RETENTION_DAYS): delete database rows only for partitions the manifest says are verified
// in the archive, and only if the rows are still exactly the ones that were verified. Each partition is checked
// and deleted in one repeatable-read transaction, so a row committed after the check is not in the snapshot,
// is not deleted, and makes the next archiver cycle merge it into the file. A clock far in the future therefore
// deletes nothing that is not archived.
import type postgres from "postgres";
import type { Logger } from "../lib/log.ts";
import { ARCHIVE_DATASETS, datasetByName } from "../schema/archive.ts";
import { fingerprintSql, type Partition, sourceSelect } from "./export.ts";
import type { ArchiverMetrics } from "./metrics.ts";

export interface RetentionOptions {
  days: number;
  now?: Date;
  /** Rows per DELETE statement. */
  batchRows?: number;
  /** TimescaleDB: drop the emptied chunks too. */
  timescale?: boolean;
  log: Logger;
  metrics?: ArchiverMetrics;
}

/** Delete what is archived and older than the cutoff. Returns the number of rows deleted. */
export async function applyRetention(sql: postgres.Sql, opts: RetentionOptions): Promise<number> {
  const cutoff = new Date((opts.now ?? new Date()).getTime() - opts.days * 86_400_000);
  const batch = opts.batchRows ?? 50_000;
  let total = 0;
  const due = await sql`
    SELECT dataset, exchange, partition_start, partition_end, source_fingerprint FROM archive_manifest
    WHERE partition_end <= ${cutoff} AND (pruned_at IS NULL OR verified_at > pruned_at)
    ORDER BY partition_start`;
  for (const m of due) {
    const dataset = datasetByName(m.dataset);
    if (!dataset) continue;
    const p: Partition = {
      dataset,
      exchange: Number(m.exchange),
      start: new Date(m.partition_start),
      end: new Date(m.partition_end),
    };
    const deleted = await sql.begin("isolation level repeatable read", async (tx) => {
      const [now] = await tx.unsafe(fingerprintSql(dataset, sourceSelect(p)));
      if (String(now?.fingerprint) !== m.source_fingerprint) {
        opts.log.warn("retention skipped a partition whose rows changed since it was archived", {
          dataset: dataset.name,
          exchange: p.exchange,
          start: p.start.toISOString(),
        });
        return 0;
      }
      let n = 0;
      for (;;) {
        const r = await tx.unsafe(
          `DELETE FROM ${dataset.table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${dataset.table} t WHERE t.exchange = $1 AND t.time >= $2 AND t.time < $3 LIMIT ${batch}))`,
          [p.exchange, p.start, p.end],
        );
        n += r.count;
        if (r.count < batch) break;
      }
      await tx`UPDATE archive_manifest SET pruned_at = now()
        WHERE dataset = ${dataset.name} AND exchange = ${p.exchange} AND partition_start = ${p.start}`;
      return n;
    });
    total += deleted;
    opts.metrics?.pruned(dataset.name, deleted);
  }
  if (opts.timescale) await dropEmptiedChunks(sql, cutoff, opts.log);
  return total;
}

/** TimescaleDB: drop chunks older than the earliest partition that is not pruned (they hold no rows left). */
async function dropEmptiedChunks(sql: postgres.Sql, cutoff: Date, log: Logger): Promise<void> {
  for (const d of ARCHIVE_DATASETS) {
    const [first] = await sql.unsafe(`SELECT min(time) AS t FROM ${d.table}`);
    const olderThan = first?.t ? new Date(Math.min(new Date(first.t).getTime(), cutoff.getTime())) : cutoff;
    try {
      await sql`SELECT drop_chunks(${d.table}::regclass, older_than => ${olderThan}::timestamptz)`;
    } catch (error) {
      // Not a hypertable (book_tops, feed_events may be plain tables): nothing to drop.
      log.debug("drop_chunks skipped", { table: d.table, error });
    }
  }
}
