// The soak's end-of-run accounting: the database against (1) every trade frame the relay delivered and (2) the
// simulator's ledger (GET /_sim/ledger: first/last trade id per venue symbol, ids contiguous).
import type postgres from "postgres";
import { EXCHANGE_IDS, EXCHANGES, type ExchangeName } from "../schema/frame.ts";
import { loadRegistry } from "../schema/instruments.ts";

type Ledger = Record<string, Record<string, { first: number; last: number }>>;

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
