// What the NautilusTrader trader did (schema/db/trading.ts, written by trader/recorder): runs, orders, fills,
// positions, balances, events and PnL. Plain arguments in, JSON-ready rows out; money stays exact text.
import { and, desc, eq, gt, lt, type SQL, sql } from "drizzle-orm";
import {
  traderBalances,
  traderEvents,
  traderFills,
  traderOrders,
  traderPositions,
  traderRuns,
} from "../../schema/db/trading.ts";
import type { Database } from "../db/client.ts";
import { NotFoundError } from "../errors.ts";
import { isoTime } from "../market/sql.ts";

const iso = (column: SQL.Aliased | SQL | unknown) => isoTime(sql`${column}`).mapWith(String);
const isoOrNull = (column: unknown) =>
  sql<string | null>`CASE WHEN ${column} IS NULL THEN NULL ELSE ${isoTime(sql`${column}`)} END`;
const text = (column: unknown) => sql<string>`${column}::text`;

export interface RunFilter {
  mode?: "paper" | "live";
  limit: number;
}

export interface SeqPage {
  limit: number;
  /** Only rows with seq below this (older): the next page of a newest-first list. */
  beforeSeq?: number;
  /** Only rows with seq above this: what is new since the last poll. */
  afterSeq?: number;
}

function seqWhere(column: unknown, page: SeqPage): SQL[] {
  const where: SQL[] = [];
  if (page.beforeSeq !== undefined) where.push(lt(column as never, page.beforeSeq));
  if (page.afterSeq !== undefined) where.push(gt(column as never, page.afterSeq));
  return where;
}

export class StrategyService {
  constructor(private readonly db: Database) {}

  private readonly runColumns = {
    id: traderRuns.id,
    traderId: traderRuns.traderId,
    strategyId: traderRuns.strategyId,
    strategy: traderRuns.strategy,
    mode: traderRuns.mode,
    instruments: traderRuns.instruments,
    config: traderRuns.config,
    startedAt: iso(traderRuns.startedAt),
    stoppedAt: isoOrNull(traderRuns.stoppedAt),
    lastEventAt: iso(traderRuns.lastEventAt),
    lastSeq: traderRuns.lastSeq,
    orders: sql<number>`(SELECT count(*)::int FROM ${traderOrders} o WHERE o.run_id = ${traderRuns.id})`,
    fills: sql<number>`(SELECT count(*)::int FROM ${traderFills} f WHERE f.run_id = ${traderRuns.id})`,
  };

  async runs(f: RunFilter) {
    const items = await this.db
      .select(this.runColumns)
      .from(traderRuns)
      .where(f.mode ? eq(traderRuns.mode, f.mode) : undefined)
      .orderBy(desc(traderRuns.startedAt))
      .limit(f.limit);
    return { items: items.map((r) => ({ ...r, config: r.config as Record<string, string> })) };
  }

  async run(runId: string) {
    const [row] = await this.db.select(this.runColumns).from(traderRuns).where(eq(traderRuns.id, runId));
    if (!row) throw new NotFoundError(`no trader run ${runId}`);
    return { ...row, config: row.config as Record<string, string> };
  }

  async orders(runId: string, f: { status?: string; limit: number }) {
    await this.run(runId);
    const where = [eq(traderOrders.runId, runId)];
    if (f.status === "open")
      where.push(
        sql`${traderOrders.status} IN ('SUBMITTED','ACCEPTED','PARTIALLY_FILLED','PENDING_UPDATE','PENDING_CANCEL','TRIGGERED','INITIALIZED','EMULATED','RELEASED')`,
      );
    else if (f.status) where.push(eq(traderOrders.status, f.status));
    const items = await this.db
      .select({
        clientOrderId: traderOrders.clientOrderId,
        venueOrderId: traderOrders.venueOrderId,
        strategyId: traderOrders.strategyId,
        instrumentId: traderOrders.instrumentId,
        side: traderOrders.side,
        type: traderOrders.type,
        quantity: text(traderOrders.quantity),
        price: sql<string | null>`${traderOrders.price}::text`,
        timeInForce: traderOrders.timeInForce,
        postOnly: traderOrders.postOnly,
        status: traderOrders.status,
        filledQty: text(traderOrders.filledQty),
        avgPx: sql<string | null>`${traderOrders.avgPx}::text`,
        reason: traderOrders.reason,
        createdAt: iso(traderOrders.createdAt),
        updatedAt: iso(traderOrders.updatedAt),
        lastSeq: traderOrders.lastSeq,
      })
      .from(traderOrders)
      .where(and(...where))
      .orderBy(desc(traderOrders.lastSeq))
      .limit(f.limit);
    return { items };
  }

  async fills(runId: string, page: SeqPage) {
    await this.run(runId);
    const rows = await this.db
      .select({
        seq: traderFills.seq,
        tradeId: traderFills.tradeId,
        clientOrderId: traderFills.clientOrderId,
        venueOrderId: traderFills.venueOrderId,
        positionId: traderFills.positionId,
        strategyId: traderFills.strategyId,
        instrumentId: traderFills.instrumentId,
        side: traderFills.side,
        quantity: text(traderFills.quantity),
        price: text(traderFills.price),
        commission: text(traderFills.commission),
        commissionCurrency: traderFills.commissionCurrency,
        liquidity: traderFills.liquidity,
        time: iso(traderFills.time),
        tsNs: sql<string>`${traderFills.tsNs}::text`,
      })
      .from(traderFills)
      .where(and(eq(traderFills.runId, runId), ...seqWhere(traderFills.seq, page)))
      .orderBy(desc(traderFills.seq))
      .limit(page.limit + 1);
    return pageOf(rows, page.limit);
  }

  async positions(runId: string) {
    await this.run(runId);
    const items = await this.db
      .select({
        positionId: traderPositions.positionId,
        strategyId: traderPositions.strategyId,
        instrumentId: traderPositions.instrumentId,
        side: traderPositions.side,
        signedQty: text(traderPositions.signedQty),
        avgPxOpen: text(traderPositions.avgPxOpen),
        avgPxClose: sql<string | null>`${traderPositions.avgPxClose}::text`,
        realizedPnl: text(traderPositions.realizedPnl),
        unrealizedPnl: text(traderPositions.unrealizedPnl),
        currency: traderPositions.currency,
        openedAt: iso(traderPositions.openedAt),
        closedAt: isoOrNull(traderPositions.closedAt),
        updatedAt: iso(traderPositions.updatedAt),
      })
      .from(traderPositions)
      .where(eq(traderPositions.runId, runId))
      .orderBy(desc(traderPositions.updatedAt));
    return { items };
  }

  async events(runId: string, page: SeqPage & { kind?: string }) {
    await this.run(runId);
    const where = [eq(traderEvents.runId, runId), ...seqWhere(traderEvents.seq, page)];
    // A prefix: "order." is every order event; "order.OrderFilled" one kind.
    if (page.kind) where.push(sql`starts_with(${traderEvents.kind}, ${page.kind})`);
    const rows = await this.db
      .select({
        seq: traderEvents.seq,
        kind: traderEvents.kind,
        strategyId: traderEvents.strategyId,
        instrumentId: traderEvents.instrumentId,
        time: iso(traderEvents.time),
        message: traderEvents.message,
        payload: traderEvents.payload,
      })
      .from(traderEvents)
      .where(and(...where))
      .orderBy(desc(traderEvents.seq))
      .limit(page.limit + 1);
    return pageOf(rows, page.limit);
  }

  /**
   * PnL per currency: realized (every closed position cycle and the open ones, commissions included as
   * Nautilus books them),
   * unrealized (open positions at their last mark), commissions paid, and the latest balances with the
   * first ones for comparison, plus the balance curve (one point per account state).
   */
  async pnl(runId: string, curvePoints: number) {
    const run = await this.run(runId);
    const totals = await this.db.execute<{
      currency: string;
      realized: string;
      unrealized: string;
      commissions: string;
    }>(sql`
      WITH cycles AS (
        -- NETTING reuses a position id when it reopens: each closed cycle's realized PnL is on its
        -- PositionClosed event ("0.084 USDT"), the open cycle's on its row.
        SELECT split_part(payload->>'realized_pnl', ' ', 2) AS currency,
               split_part(payload->>'realized_pnl', ' ', 1)::numeric AS realized, 0::numeric AS unrealized
        FROM ${traderEvents} WHERE run_id = ${runId} AND kind = 'position.PositionClosed'
        UNION ALL
        SELECT currency, realized_pnl, unrealized_pnl
        FROM ${traderPositions} WHERE run_id = ${runId} AND closed_at IS NULL
      ), p AS (
        SELECT currency, sum(realized) AS realized, sum(unrealized) AS unrealized FROM cycles GROUP BY currency
      ), c AS (
        SELECT commission_currency AS currency, sum(commission) AS commissions
        FROM ${traderFills} WHERE run_id = ${runId} GROUP BY commission_currency
      )
      SELECT coalesce(p.currency, c.currency) AS currency, coalesce(p.realized, 0)::text AS realized,
             coalesce(p.unrealized, 0)::text AS unrealized, coalesce(c.commissions, 0)::text AS commissions
      FROM p FULL JOIN c ON p.currency = c.currency ORDER BY 1`);
    const balances = await this.db.execute<{
      accountId: string;
      currency: string;
      start: string;
      total: string;
      free: string;
      locked: string;
      change: string;
      time: string;
    }>(sql`
      SELECT DISTINCT ON (account_id, currency) account_id AS "accountId", currency,
             first_value(total) OVER w ::text AS start, total::text, free::text, locked::text,
             (total - first_value(total) OVER w)::text AS change, ${isoTime(sql`time`)} AS time
      FROM ${traderBalances} WHERE run_id = ${runId}
      WINDOW w AS (PARTITION BY account_id, currency ORDER BY seq)
      ORDER BY account_id, currency, seq DESC`);
    // The newest curvePoints account states (in time order).
    const curve = await this.db.execute<{ seq: number; time: string; currency: string; total: string }>(sql`
      SELECT seq::int, time, currency, total FROM (
        SELECT b.seq, ${isoTime(sql`b.time`)} AS time, b.currency, b.total::text AS total
        FROM ${traderBalances} b
        WHERE b.run_id = ${runId} AND b.seq IN (
          SELECT DISTINCT seq FROM ${traderBalances} WHERE run_id = ${runId} ORDER BY seq DESC LIMIT ${curvePoints})
      ) x ORDER BY seq, currency`);
    return {
      runId: run.id,
      strategyId: run.strategyId,
      totals: [...totals],
      balances: [...balances],
      curve: [...curve],
    };
  }
}

function pageOf<T extends { seq: number }>(rows: T[], limit: number) {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, nextBeforeSeq: more ? items[items.length - 1]!.seq : null };
}
