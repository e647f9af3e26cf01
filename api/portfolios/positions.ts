// Positions, fills and PnL of one portfolio, derived from the ledger: open lots give quantity and cost,
// fills give realized PnL and fees, and each position is marked to the latest trade of its exchange.
// Sums and products are NUMERIC in SQL (exact); only the displayed average entry is rounded.
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { fills } from "../../schema/db/index.ts";
import type { Database } from "../db/client.ts";
import { exchangeName, type InstrumentCatalog } from "../market/catalog.ts";
import { cursorTime, decodeCursor, encodeCursor } from "../market/cursor.ts";
import { isoTime } from "../market/sql.ts";
import { add, dec, mul, str, sub, ZERO } from "./exact.ts";

interface PositionRow {
  exchange: number;
  instrument_id: number;
  quantity: string;
  cost: string;
  realized: string;
  fees: string;
  mark: string | null;
  marked_at: string | null;
  average: string | null;
  unrealized: string | null;
}

export async function queryPositions(db: Database, catalog: InstrumentCatalog, portfolioId: string) {
  const rows = (await db.execute(sql`WITH lots AS (
      SELECT exchange, instrument_id, sum(quantity) AS quantity, sum(quantity * price) AS cost
      FROM position_lots WHERE portfolio_id = ${portfolioId} GROUP BY exchange, instrument_id
    ), booked AS (
      SELECT exchange, instrument_id, sum(realized_pnl) AS realized, sum(fee) AS fees
      FROM fills WHERE portfolio_id = ${portfolioId} GROUP BY exchange, instrument_id
    ), joined AS (
      SELECT exchange, instrument_id, coalesce(l.quantity, 0) AS quantity, coalesce(l.cost, 0) AS cost,
        coalesce(b.realized, 0) AS realized, coalesce(b.fees, 0) AS fees
      FROM lots l FULL JOIN booked b USING (exchange, instrument_id)
    )
    SELECT j.exchange, j.instrument_id, j.quantity::text AS quantity, j.cost::text AS cost,
      j.realized::text AS realized, j.fees::text AS fees, m.price::text AS mark, ${isoTime(sql`m.time`)} AS marked_at,
      CASE WHEN j.quantity <> 0 THEN trim_scale(round(j.cost / j.quantity, 12))::text END AS average,
      (j.quantity * m.price - j.cost)::text AS unrealized
    FROM joined j
    LEFT JOIN LATERAL (SELECT price, time FROM trades t
      WHERE t.instrument_id = j.instrument_id AND t.exchange = j.exchange ORDER BY time DESC LIMIT 1) m ON true
    ORDER BY j.instrument_id, j.exchange`)) as unknown as PositionRow[];
  return rows.map((r) => {
    const instrument = catalog.byId(r.instrument_id);
    return {
      symbol: instrument?.symbol ?? String(r.instrument_id),
      quote: instrument?.quote ?? "",
      exchange: exchangeName(r.exchange),
      quantity: str(dec(r.quantity)),
      costBasis: str(dec(r.cost)),
      averageEntryPrice: r.average,
      markPrice: r.mark,
      markedAt: r.marked_at,
      realizedPnl: str(dec(r.realized)),
      unrealizedPnl: r.unrealized === null ? null : str(dec(r.unrealized)),
      fees: str(dec(r.fees)),
    };
  });
}

export type Position = Awaited<ReturnType<typeof queryPositions>>[number];

/**
 * Totals per quote currency (USD and USDT are not added together), over the positions and the cash
 * balances. Unmarked positions add no unrealized PnL and no value to equity; they are counted instead.
 * equity = cash + sum(quantity x mark), which equals the net cash put in plus netPnl.
 */
export function pnlTotals(
  positions: Position[],
  cash: readonly { currency: string; balance: string }[] = [],
) {
  const blank = () => ({
    realized: ZERO,
    unrealized: ZERO,
    fees: ZERO,
    value: ZERO,
    cash: ZERO,
    unmarked: 0,
  });
  const byQuote = new Map<string, ReturnType<typeof blank>>();
  const of = (quote: string) => {
    const found = byQuote.get(quote);
    if (found) return found;
    const fresh = blank();
    byQuote.set(quote, fresh);
    return fresh;
  };
  for (const c of cash) of(c.currency).cash = dec(c.balance);
  for (const p of positions) {
    const t = of(p.quote);
    t.realized = add(t.realized, dec(p.realizedPnl));
    t.fees = add(t.fees, dec(p.fees));
    if (p.unrealizedPnl !== null) t.unrealized = add(t.unrealized, dec(p.unrealizedPnl));
    else if (p.quantity !== "0") t.unmarked++;
    if (p.markPrice !== null) t.value = add(t.value, mul(dec(p.quantity), dec(p.markPrice)));
  }
  return [...byQuote]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([quote, t]) => ({
      quote,
      realizedPnl: str(t.realized),
      unrealizedPnl: str(t.unrealized),
      fees: str(t.fees),
      netPnl: str(sub(add(t.realized, t.unrealized), t.fees)),
      unmarkedPositions: t.unmarked,
      cash: str(t.cash),
      equity: str(add(t.cash, t.value)),
    }));
}

export async function queryFills(
  db: Database,
  catalog: InstrumentCatalog,
  portfolioId: string,
  f: { orderId?: string; symbol?: string; limit: number; cursor?: string },
) {
  const where: SQL[] = [eq(fills.portfolioId, portfolioId)];
  if (f.orderId) where.push(eq(fills.orderId, f.orderId));
  if (f.symbol) where.push(eq(fills.instrumentId, catalog.require(f.symbol).id));
  if (f.cursor) {
    const [t, id] = decodeCursor(f.cursor, "su");
    where.push(sql`(${fills.time}, ${fills.id}) < (${cursorTime(t)}::timestamptz, ${id}::uuid)`);
  }
  const rows = await db
    .select({
      id: fills.id,
      orderId: fills.orderId,
      exchange: fills.exchange,
      instrumentId: fills.instrumentId,
      side: fills.side,
      quantity: fills.quantity,
      price: fills.price,
      fee: fills.fee,
      realizedPnl: fills.realizedPnl,
      liquidity: fills.liquidity,
      time: isoTime(sql`${fills.time}`).mapWith(String),
    })
    .from(fills)
    .where(and(...where))
    .orderBy(desc(fills.time), desc(fills.id))
    .limit(f.limit + 1);
  const more = rows.length > f.limit;
  const page = more ? rows.slice(0, f.limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map(({ instrumentId, exchange, ...r }) => ({
      ...r,
      symbol: catalog.byId(instrumentId)?.symbol ?? String(instrumentId),
      exchange: exchangeName(exchange),
    })),
    nextCursor: more && last ? encodeCursor([last.time, last.id]) : null,
  };
}
