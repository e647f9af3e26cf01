// Stored depth: the book of one instrument rebuilt from book_changes (the bridge keeps every level change:
// a snapshot starts with a BEGIN frame and clears the book; each later change sets a level's absolute
// size, 0 removing it). The rebuild reads the changes since the last snapshot, so it is bounded: with more
// than MAX_DEPTH_CHANGES since then (a long-running feed that never resnapshots) it gives up and the caller
// uses the book top alone. A rebuild whose last change is older than the quote age limit (the book feed
// stopped while the top still ticks), or that is crossed or one-sided, is not trusted either.
import { sql } from "drizzle-orm";
import { FLAG_ASK, FLAG_BEGIN } from "../../schema/frame.ts";
import type { Database, Tx } from "../db/client.ts";
import { cmp, dec } from "./exact.ts";
import type { Level } from "./walk.ts";

export const MAX_DEPTH_CHANGES = 20_000;
// Inlined, not a parameter: the planner matches the partial index book_changes_snapshots only on a literal.
const BEGIN = sql.raw(String(FLAG_BEGIN));
/** Levels kept per side, best first: enough for any paper order a sane book can fill. */
export const MAX_DEPTH_LEVELS = 500;

export interface Depth {
  bids: Level[];
  asks: Level[];
}

interface SpanRow {
  start: string | null;
  n: number;
  fresh: boolean;
}

interface LevelRow {
  begin: boolean;
  ask: boolean;
  price: string;
  size: string;
}

export async function storedDepth(
  db: Database | Tx,
  exchange: number,
  instrumentId: number,
  maxAgeMs: number,
  maxChanges = MAX_DEPTH_CHANGES,
): Promise<Depth | null> {
  // First the cheap part (index scans, the count bounded): is there a recent snapshot to rebuild from?
  const [span] = (await db.execute(sql`WITH start AS (
      SELECT recv_ns FROM book_changes
      WHERE exchange = ${exchange} AND instrument_id = ${instrumentId} AND (flags & ${BEGIN}) <> 0
      ORDER BY recv_ns DESC LIMIT 1
    )
    SELECT (SELECT recv_ns::text FROM start) AS start,
      (SELECT count(*)::int FROM (SELECT 1 FROM book_changes c, start s WHERE c.exchange = ${exchange}
        AND c.instrument_id = ${instrumentId} AND c.recv_ns >= s.recv_ns LIMIT ${maxChanges + 1}) x) AS n,
      coalesce((SELECT time > now() - ${maxAgeMs} * interval '1 millisecond' FROM book_changes
        WHERE exchange = ${exchange} AND instrument_id = ${instrumentId}
        ORDER BY recv_ns DESC LIMIT 1), false) AS fresh`)) as unknown as SpanRow[];
  if (!span?.start || span.n > maxChanges || !span.fresh) return null;
  // Replayed in index order (no sort in SQL): the last change of each (side, price) wins, and a snapshot
  // written since the first query starts the book again. Bounded, in case the feed wrote a burst meanwhile.
  const rows =
    (await db.execute(sql`SELECT (flags & ${BEGIN}) <> 0 AS begin, (flags & ${FLAG_ASK}) <> 0 AS ask,
      price::text AS price, size::text AS size FROM book_changes
    WHERE exchange = ${exchange} AND instrument_id = ${instrumentId} AND recv_ns >= ${span.start}::bigint
    ORDER BY recv_ns, seq LIMIT ${2 * maxChanges}`)) as unknown as LevelRow[];
  if (rows.length >= 2 * maxChanges) return null;
  const book = new Map<string, LevelRow>();
  for (const r of rows) {
    if (r.begin) book.clear();
    // numeric::text keeps the stored scale, which the bridge fixes per instrument: the text is the key.
    book.set(r.ask ? `a${r.price}` : `b${r.price}`, r);
  }
  const bids: Level[] = [];
  const asks: Level[] = [];
  for (const r of book.values()) {
    const size = dec(r.size);
    if (size.units > 0n) (r.ask ? asks : bids).push({ price: dec(r.price), size });
  }
  asks.sort((a, b) => cmp(a.price, b.price));
  bids.sort((a, b) => cmp(b.price, a.price));
  if (asks.length === 0 || bids.length === 0) return null;
  if (cmp(bids[0]!.price, asks[0]!.price) >= 0) return null; // crossed: changes are missing
  return { bids: bids.slice(0, MAX_DEPTH_LEVELS), asks: asks.slice(0, MAX_DEPTH_LEVELS) };
}
