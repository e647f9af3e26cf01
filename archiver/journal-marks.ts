// The relay journal keeps a closed segment past its retention until the archive has taken it (relay/README.md):
// the archiver marks it with `<segment>.archived` once every frame in it is both in the database and in a
// verified Parquet partition. "In the database": the newest receive stamp the database holds is past the
// segment's last one. "In the archive": the segment's last frame is older than the archive's watermark (the
// start of the interval the last successful cycle could not export yet because it is still open).
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type postgres from "postgres";
import type { Logger } from "../lib/log.ts";
import { archivedMarker, indexName, readRecords, SEGMENT_FILE } from "../relay/journal/record.ts";

/** Mark what can be marked; returns the number of segments marked now. */
export async function markArchivedSegments(
  sql: postgres.Sql,
  dir: string,
  watermarkNs: number,
  log: Logger,
): Promise<number> {
  if (!existsSync(dir)) return 0;
  const starts = readdirSync(dir)
    .map((name) => SEGMENT_FILE.exec(name)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  // The last segment is the one being written.
  const closed = starts.slice(0, -1).filter((start) => !existsSync(join(dir, archivedMarker(start))));
  if (closed.length === 0) return 0;
  const [stored] = await sql`SELECT greatest(
      (SELECT max(recv_ns) FROM trades), (SELECT max(recv_ns) FROM book_changes),
      (SELECT (extract(epoch from max(time)) * 1e9)::bigint FROM feed_events))::text AS ns`;
  const storedNs = Number(stored?.ns ?? 0);
  let marked = 0;
  for (const start of closed) {
    const records = readRecords(new Uint8Array(readFileSync(join(dir, indexName(start)))));
    const last = records.at(-1);
    if (!last) continue;
    if (last.maxTsRecv >= watermarkNs || last.maxTsRecv > storedNs) break; // later segments are newer still
    const fd = openSync(join(dir, archivedMarker(start)), "wx");
    writeSync(fd, `${new Date().toISOString()}\n`);
    closeSync(fd);
    marked++;
  }
  if (marked > 0) log.info("journal segments marked archived", { dir, marked });
  return marked;
}
