// Cash per quote currency: a balance is the sum of the portfolio's ledger entries; what is reserved is
// computed from its open orders (a resting buy holds its remaining quantity x limit price plus fee; a
// resting sell holds its remaining quantity of the position), so neither can drift. Writers that check
// "available" first lock the portfolio row (lockPortfolio), so two checks cannot both spend one balance.
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { cashEntries, portfolios } from "../../schema/db/index.ts";
import type { Database, Tx } from "../db/client.ts";
import { ApiError, NotFoundError } from "../errors.ts";
import { cursorTime, decodeCursor, encodeCursor } from "../market/cursor.ts";
import { isoTime } from "../market/sql.ts";
import { type Dec, dec, str } from "./exact.ts";

export interface CashBalance {
  currency: string;
  balance: string;
  reserved: string;
  available: string;
}

/** 422 insufficient_funds / insufficient_position: the order or withdrawal is refused, nothing is stored. */
export class InsufficientError extends ApiError {
  constructor(code: "insufficient_funds" | "insufficient_position", message: string) {
    super(422, code, message);
  }
}

/** Lock the user's portfolio for the rest of the transaction; 404 when it is not theirs. */
export async function lockPortfolio(tx: Tx, userId: string, portfolioId: string) {
  const [row] = await tx
    .select({ id: portfolios.id, margin: portfolios.margin })
    .from(portfolios)
    .where(and(eq(portfolios.id, portfolioId), eq(portfolios.userId, userId)))
    .for("update");
  if (!row) throw new NotFoundError("portfolio not found");
  return row;
}

/** Balances, reservations and what is available, per currency (one statement: one snapshot). */
export async function cashBalances(
  db: Database | Tx,
  portfolioId: string,
  feeBps: string,
): Promise<CashBalance[]> {
  // x 0.0001 rather than / 10000: NUMERIC multiplication is exact, division rounds.
  return (await db.execute(sql`WITH bal AS (
      SELECT currency, sum(amount) AS balance FROM cash_entries WHERE portfolio_id = ${portfolioId}
      GROUP BY currency
    ), res AS (
      SELECT currency, sum((quantity - filled_quantity) * limit_price * (10000 + ${feeBps}::numeric) * 0.0001)
        AS reserved
      FROM orders WHERE portfolio_id = ${portfolioId} AND status = 'open' AND side = 'buy' GROUP BY currency
    )
    SELECT currency, trim_scale(coalesce(balance, 0))::text AS balance,
      trim_scale(coalesce(reserved, 0))::text AS reserved,
      trim_scale(coalesce(balance, 0) - coalesce(reserved, 0))::text AS available
    FROM bal FULL JOIN res USING (currency) ORDER BY currency`)) as unknown as CashBalance[];
}

export async function availableCash(tx: Tx, portfolioId: string, currency: string, feeBps: string) {
  const found = (await cashBalances(tx, portfolioId, feeBps)).find((b) => b.currency === currency);
  return dec(found?.available ?? "0");
}

/** Position on one exchange less what open sell orders hold of it. */
export async function availablePosition(
  tx: Tx,
  portfolioId: string,
  exchange: number,
  instrumentId: number,
): Promise<Dec> {
  const [row] = (await tx.execute(sql`SELECT
      (coalesce((SELECT sum(quantity) FROM position_lots WHERE portfolio_id = ${portfolioId}
        AND exchange = ${exchange} AND instrument_id = ${instrumentId}), 0)
      - coalesce((SELECT sum(quantity - filled_quantity) FROM orders WHERE portfolio_id = ${portfolioId}
        AND exchange = ${exchange} AND instrument_id = ${instrumentId} AND status = 'open' AND side = 'sell'), 0)
      )::text AS available`)) as unknown as { available: string }[];
  return dec(row!.available);
}

export type CashKind = (typeof cashEntries.$inferInsert)["kind"];

export async function addEntry(
  tx: Tx,
  entry: { portfolioId: string; currency: string; amount: Dec; kind: CashKind; note?: string },
) {
  const [row] = await tx
    .insert(cashEntries)
    .values({ ...entry, amount: str(entry.amount), note: entry.note ?? "" })
    .returning(entryColumns);
  return row!;
}

const entryColumns = {
  id: cashEntries.id,
  currency: cashEntries.currency,
  amount: cashEntries.amount,
  kind: cashEntries.kind,
  fillId: cashEntries.fillId,
  note: cashEntries.note,
  time: isoTime(sql`${cashEntries.time}`).mapWith(String),
};

export async function queryLedger(
  db: Database,
  portfolioId: string,
  f: { currency?: string; limit: number; cursor?: string },
) {
  const where: SQL[] = [eq(cashEntries.portfolioId, portfolioId)];
  if (f.currency) where.push(eq(cashEntries.currency, f.currency));
  if (f.cursor) {
    const [t, id] = decodeCursor(f.cursor, "su");
    where.push(sql`(${cashEntries.time}, ${cashEntries.id}) < (${cursorTime(t)}::timestamptz, ${id}::uuid)`);
  }
  const rows = await db
    .select(entryColumns)
    .from(cashEntries)
    .where(and(...where))
    .orderBy(desc(cashEntries.time), desc(cashEntries.id))
    .limit(f.limit + 1);
  const more = rows.length > f.limit;
  const page = more ? rows.slice(0, f.limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({ ...r, amount: str(dec(r.amount)) })),
    nextCursor: more && last ? encodeCursor([last.time, last.id]) : null,
  };
}
