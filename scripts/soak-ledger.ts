// The soak's end-of-run accounting: the database against (1) every trade frame the relay delivered and (2) the
// simulator's ledger (GET /_sim/ledger: first/last trade id per venue symbol, ids contiguous).
import type postgres from "postgres";
import { EXCHANGE_IDS, EXCHANGES, type ExchangeName } from "../schema/frame.ts";
import { loadRegistry } from "../schema/instruments.ts";

export type Ledger = Record<string, Record<string, { first: number; last: number }>>;

export async function fetchLedger(simOrigin: string): Promise<Ledger> {
  const res = await fetch(`${simOrigin}/_sim/ledger`);
  if (!res.ok) throw new Error(`GET /_sim/ledger: ${res.status}`);
  return (await res.json()) as Ledger;
}

/** Stored trades by `exchange:instrument:tradeId` → rows with that key. */
export async function storedTradeKeys(sql: postgres.Sql): Promise<Map<string, number>> {
  const rows = await sql<{ key: string; n: number }[]>`
    SELECT exchange || ':' || instrument_id || ':' || trade_id AS key, count(*)::int AS n
    FROM trades GROUP BY exchange, instrument_id, trade_id`;
  return new Map(rows.map((r) => [r.key, r.n]));
}

export interface LedgerGap {
  venue: ExchangeName;
  symbol: string;
  /** Ids from the first one stored to the ledger's last before the stop that the database lacks. */
  missing: number;
  expected: number;
}

/**
 * Per venue symbol, the ids from the first one the database holds (the collector joined mid-tape) up to the
 * ledger's `last` taken before the collectors stopped: every one of them was published while a collector was
 * meant to be listening, so each missing id is a trade lost on the way in (a reconnect without backfill).
 */
export async function ledgerGaps(sql: postgres.Sql, ledger: Ledger): Promise<LedgerGap[]> {
  const registry = loadRegistry();
  const gaps: LedgerGap[] = [];
  for (const venue of EXCHANGES) {
    for (const [symbol, entry] of Object.entries(ledger[venue] ?? {})) {
      const inst = registry.byVenueSymbol(venue, symbol);
      if (!inst) continue;
      const [row] = await sql<{ first: string | null; n: number }[]>`
        SELECT min(trade_id)::text AS first, count(DISTINCT trade_id)::int AS n FROM trades
        WHERE exchange = ${EXCHANGE_IDS[venue]} AND instrument_id = ${inst.id} AND trade_id <= ${entry.last}`;
      if (!row?.first) {
        gaps.push({
          venue,
          symbol,
          missing: entry.last - entry.first + 1,
          expected: entry.last - entry.first + 1,
        });
        continue;
      }
      const expected = entry.last - Number(row.first) + 1;
      if (row.n < expected) gaps.push({ venue, symbol, missing: expected - row.n, expected });
    }
  }
  return gaps;
}

export interface WindowCount {
  venue: ExchangeName;
  symbol: string;
  /** Ledger ids in the window: after `from`'s last, up to `to`'s last. */
  expected: number;
  /** Of them, ids the database lacks. */
  missing: number;
  /** Rows beyond one per id (a trade stored twice). */
  duplicates: number;
  /** Missing ids no stored trade_gap event covers (a loss nobody was told about). */
  unreported: number;
}

/**
 * Per venue symbol, the ledger's trades published after `from` was read up to `to`'s last: how many the database
 * lacks and how many it holds more than once. `from` null: from each symbol's first stored id (a collector
 * joins mid-tape). Missing ids are checked against the stored trade_gap events (detail = first missing id,
 * count) only when there are any, so the common answer is one query per symbol.
 */
export async function compareWindow(
  sql: postgres.Sql,
  from: Ledger | null,
  to: Ledger,
): Promise<WindowCount[]> {
  const registry = loadRegistry();
  const out: WindowCount[] = [];
  for (const venue of EXCHANGES) {
    for (const [symbol, entry] of Object.entries(to[venue] ?? {})) {
      const inst = registry.byVenueSymbol(venue, symbol);
      if (!inst) continue;
      const ex = EXCHANGE_IDS[venue];
      let lo = from?.[venue]?.[symbol]?.last;
      if (lo === undefined) {
        const [first] = await sql<{ id: string | null }[]>`
          SELECT min(trade_id)::text AS id FROM trades WHERE exchange = ${ex} AND instrument_id = ${inst.id}`;
        lo = first?.id ? Number(first.id) - 1 : entry.first - 1;
      }
      const hi = entry.last;
      if (hi <= lo) continue;
      const [row] = await sql<{ n: number; rows: number }[]>`
        SELECT count(DISTINCT trade_id)::int AS n, count(*)::int AS rows FROM trades
        WHERE exchange = ${ex} AND instrument_id = ${inst.id} AND trade_id > ${lo} AND trade_id <= ${hi}`;
      const expected = hi - lo;
      const missing = expected - row!.n;
      let unreported = 0;
      if (missing > 0) {
        const [u] = await sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM generate_series(${lo + 1}::bigint, ${hi}::bigint) AS g(id)
          WHERE NOT EXISTS (SELECT 1 FROM trades t WHERE t.exchange = ${ex} AND t.instrument_id = ${inst.id}
                              AND t.trade_id = g.id)
            AND NOT EXISTS (SELECT 1 FROM feed_events e WHERE e.exchange = ${ex} AND e.instrument_id = ${inst.id}
                              AND e.event = 'trade_gap' AND g.id >= e.detail AND g.id < e.detail + e.count)`;
        unreported = u!.n;
      }
      out.push({ venue, symbol, expected, missing, duplicates: row!.rows - row!.n, unreported });
    }
  }
  return out;
}
