// Applies a batch of spool records to Postgres in one transaction. Idempotent: events, fills and balances are
// keyed by (run, seq) and inserted with ON CONFLICT DO NOTHING; order and position rows are upserted only
// by a newer event (last_seq), so a replayed or overlapping batch changes nothing.
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import {
  traderBalances,
  traderEvents,
  traderFills,
  traderOrders,
  traderPositions,
  traderRuns,
} from "../../schema/db/trading.ts";
import { nsOf, type RunInfo, type SpoolRecord } from "./records.ts";

// biome-ignore lint/suspicious/noExplicitAny: any Drizzle Postgres database (postgres.js in the processes)
export type RecorderDb = PgDatabase<PgQueryResultHKT, any>;

/** An exact µs timestamptz from ns (a JS Date would cut to ms). */
export function tsFromNs(ns: bigint): SQL {
  return sql`(timestamptz 'epoch' + ${(ns / 1000n).toString()}::bigint * interval '1 microsecond')`;
}

const excluded = (column: string) => sql.raw(`excluded.${column}`);

/** The newest row per key (one statement cannot upsert the same row twice). */
function newest<T>(rows: T[], key: (row: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const row of rows) byKey.set(key(row), row);
  return [...byKey.values()];
}

export async function applyRecords(db: RecorderDb, records: readonly SpoolRecord[]): Promise<void> {
  if (records.length === 0) return;
  await db.transaction(async (tx) => {
    for (const r of records) {
      if (r.kind !== "run.started") continue;
      const info = r.info as RunInfo;
      await tx
        .insert(traderRuns)
        .values({
          id: r.run,
          traderId: info.trader_id,
          strategyId: info.strategy_id,
          strategy: info.strategy,
          mode: info.mode,
          instruments: info.instruments,
          config: info.config ?? {},
          startedAt: tsFromNs(r.ts),
          lastEventAt: tsFromNs(r.ts),
          lastSeq: 0,
        })
        .onConflictDoNothing();
    }
    await tx
      .insert(traderEvents)
      .values(
        records.map((r) => ({
          runId: r.run,
          seq: r.seq,
          kind: r.kind,
          strategyId: r.strategy ?? null,
          instrumentId: r.instrument ?? null,
          time: tsFromNs(r.ts),
          tsNs: r.ts,
          message: r.message,
          payload: r.event ?? r.info ?? r.balances ?? {},
        })),
      )
      .onConflictDoNothing();

    const fills = records.filter((r) => r.fill);
    if (fills.length > 0)
      await tx
        .insert(traderFills)
        .values(
          fills.map((r) => {
            const f = r.fill!;
            return {
              runId: r.run,
              seq: r.seq,
              tradeId: f.trade_id,
              clientOrderId: f.client_order_id,
              venueOrderId: f.venue_order_id,
              positionId: f.position_id,
              strategyId: r.strategy!,
              instrumentId: r.instrument!,
              side: f.side,
              quantity: f.quantity,
              price: f.price,
              commission: f.commission,
              commissionCurrency: f.commission_currency,
              liquidity: f.liquidity,
              time: tsFromNs(r.ts),
              tsNs: r.ts,
            };
          }),
        )
        .onConflictDoNothing();

    const orders = newest(
      records.filter((r) => r.order),
      (r) => `${r.run}/${r.order!.client_order_id}`,
    );
    if (orders.length > 0)
      await tx
        .insert(traderOrders)
        .values(
          orders.map((r) => {
            const o = r.order!;
            return {
              runId: r.run,
              clientOrderId: o.client_order_id,
              venueOrderId: o.venue_order_id,
              strategyId: r.strategy!,
              instrumentId: r.instrument!,
              side: o.side,
              type: o.type,
              quantity: o.quantity,
              price: o.price,
              timeInForce: o.time_in_force,
              postOnly: o.post_only,
              status: o.status,
              filledQty: o.filled_qty,
              avgPx: o.avg_px,
              reason: o.reason,
              createdAt: tsFromNs(nsOf(o.ts_init, "ts_init")),
              updatedAt: tsFromNs(r.ts),
              lastSeq: r.seq,
            };
          }),
        )
        .onConflictDoUpdate({
          target: [traderOrders.runId, traderOrders.clientOrderId],
          set: Object.fromEntries(
            [
              "venue_order_id",
              "status",
              "filled_qty",
              "avg_px",
              "reason",
              "price",
              "quantity",
              "updated_at",
              "last_seq",
            ].map((c) => [camel(c), excluded(c)]),
          ),
          setWhere: sql`${traderOrders.lastSeq} < excluded.last_seq`,
        });

    const positions = newest(
      records.filter((r) => r.position),
      (r) => `${r.run}/${r.position!.position_id}`,
    );
    if (positions.length > 0)
      await tx
        .insert(traderPositions)
        .values(
          positions.map((r) => {
            const p = r.position!;
            return {
              runId: r.run,
              positionId: p.position_id,
              strategyId: r.strategy!,
              instrumentId: r.instrument!,
              side: p.side,
              signedQty: p.signed_qty,
              avgPxOpen: p.avg_px_open ?? "0",
              avgPxClose: p.avg_px_close,
              realizedPnl: p.realized_pnl,
              unrealizedPnl: p.unrealized_pnl,
              currency: p.currency,
              openedAt: tsFromNs(nsOf(p.ts_opened, "ts_opened")),
              closedAt: p.ts_closed ? tsFromNs(nsOf(p.ts_closed, "ts_closed")) : null,
              updatedAt: tsFromNs(r.ts),
              lastSeq: r.seq,
            };
          }),
        )
        .onConflictDoUpdate({
          target: [traderPositions.runId, traderPositions.positionId],
          set: Object.fromEntries(
            [
              "side",
              "signed_qty",
              "avg_px_open",
              "avg_px_close",
              "realized_pnl",
              "unrealized_pnl",
              "currency",
              "opened_at",
              "closed_at",
              "updated_at",
              "last_seq",
            ].map((c) => [camel(c), excluded(c)]),
          ),
          setWhere: sql`${traderPositions.lastSeq} < excluded.last_seq`,
        });

    const balances = records.flatMap((r) =>
      (r.balances ?? []).map((b) => ({
        runId: r.run,
        seq: r.seq,
        accountId: r.account_id!,
        currency: b.currency,
        total: b.total,
        locked: b.locked,
        free: b.free,
        time: tsFromNs(r.ts),
      })),
    );
    if (balances.length > 0) await tx.insert(traderBalances).values(balances).onConflictDoNothing();

    // The run's high-water mark and end, per run in the batch.
    for (const run of new Set(records.map((r) => r.run))) {
      const mine = records.filter((r) => r.run === run);
      const last = mine.reduce((a, b) => (b.seq > a.seq ? b : a));
      const stopped = mine.find((r) => r.kind === "run.stopped");
      await tx
        .update(traderRuns)
        .set({
          lastSeq: sql`greatest(${traderRuns.lastSeq}, ${last.seq})`,
          lastEventAt: sql`greatest(${traderRuns.lastEventAt}, ${tsFromNs(last.ts)})`,
          ...(stopped ? { stoppedAt: tsFromNs(stopped.ts) } : {}),
        })
        .where(sql`${traderRuns.id} = ${run}`);
    }
  });
}

function camel(column: string): string {
  return column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
