// A finished backtest's report (trader/tapewire_trader/archive_results.py) into the backtest tables, in one
// transaction with the run's status: a run is `done` with all of its rows or not at all.
import { eq } from "drizzle-orm";
import {
  backtestEquity,
  backtestFills,
  backtestOrders,
  backtestPositions,
  backtestRuns,
  backtestStats,
} from "../../schema/db/backtests.ts";
import type { Database, Tx } from "../db/client.ts";

type Dec = string;
export interface BacktestReport {
  stats: {
    currency: string;
    orders: number;
    filledOrders: number;
    fills: number;
    buyFills: number;
    sellFills: number;
    volume: Dec;
    commissions: Dec;
    realizedPnl: Dec;
    unrealizedPnl: Dec;
    netPnl: Dec;
    startEquity: Dec;
    endEquity: Dec;
    returnPct: Dec;
    maxDrawdown: Dec;
    maxDrawdownPct: Dec;
    firstTs: number | string | null;
    lastTs: number | string | null;
  };
  orders: {
    clientOrderId: string;
    instrument: string;
    side: string;
    type: string;
    timeInForce: string;
    quantity: Dec;
    price: Dec | null;
    status: string;
    filledQty: Dec;
    avgPx: Dec | null;
    tsInit: number | string;
    tsLast: number | string;
  }[];
  fills: {
    tradeId: string;
    clientOrderId: string;
    venueOrderId: string;
    instrument: string;
    side: string;
    price: Dec;
    quantity: Dec;
    commission: Dec;
    commissionCurrency: string;
    liquidity: string;
    ts: number | string;
  }[];
  positions: {
    instrument: string;
    side: string;
    quantity: Dec;
    avgPx: Dec;
    realizedPnl: Dec;
    unrealizedPnl: Dec;
    markPx: Dec | null;
    fills: number;
    openedTs: number | string;
  }[];
  equity: { ts: number | string; equity: Dec }[];
  data?: Record<string, unknown>;
}

const CHUNK = 500;
const big = (v: number | string) => BigInt(v);

async function chunked<T>(rows: T[], insert: (part: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await insert(rows.slice(i, i + CHUNK));
}

export async function storeResults(db: Database, runId: string, r: BacktestReport): Promise<void> {
  await db.transaction(async (tx: Tx) => {
    const { firstTs, lastTs, ...s } = r.stats;
    await tx.insert(backtestStats).values({
      runId,
      ...s,
      firstNs: firstTs === null ? null : big(firstTs),
      lastNs: lastTs === null ? null : big(lastTs),
    });
    await chunked(
      r.orders.map((o, seq) => ({ runId, seq, ...o, tsInit: big(o.tsInit), tsLast: big(o.tsLast) })),
      (part) => tx.insert(backtestOrders).values(part),
    );
    await chunked(
      r.fills.map((f, seq) => ({ runId, seq, ...f, ts: big(f.ts) })),
      (part) => tx.insert(backtestFills).values(part),
    );
    await chunked(
      r.positions.map(({ openedTs, ...p }) => ({ runId, ...p, openedNs: big(openedTs) })),
      (part) => tx.insert(backtestPositions).values(part),
    );
    await chunked(
      r.equity.map((p, seq) => ({ runId, seq, ts: big(p.ts), equity: p.equity })),
      (part) => tx.insert(backtestEquity).values(part),
    );
    await tx
      .update(backtestRuns)
      .set({ status: "done", data: r.data ?? null, error: null, finishedAt: new Date() })
      .where(eq(backtestRuns.id, runId));
  });
}
