// Backtests as jobs: create (validated against the registry and the archive manifest, then queued for the
// runner), list and fetch with results. Every query is scoped by the caller's user id.
import { and, desc, sql as dsql, eq, inArray } from "drizzle-orm";
import { archiveManifest } from "../../schema/db/archive.ts";
import {
  backtestEquity,
  backtestFills,
  backtestOrders,
  backtestPositions,
  backtestRuns,
  backtestStats,
} from "../../schema/db/backtests.ts";
import { EXCHANGES } from "../../schema/frame.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";
import type { Database } from "../db/client.ts";
import { NotFoundError, TooManyRequestsError, UnprocessableError } from "../errors.ts";
import { checkRange, parseTime } from "../time.ts";
import type { BacktestConfig } from "./config.ts";
import type { CreateBacktest } from "./model.ts";
import { instant, nsInstant } from "./times.ts";

type RunRow = typeof backtestRuns.$inferSelect;
type StatsRow = typeof backtestStats.$inferSelect;

/** The datasets a backtest reads (book_changes give the book and its quotes). */
export const BACKTEST_DATASETS = ["trades", "book_changes", "feed_events"] as const;

export const exchangeCode = (venue: string): number => EXCHANGES.indexOf(venue.toLowerCase() as never) + 1;

export class BacktestService {
  constructor(
    private readonly db: Database,
    private readonly registry: InstrumentRegistry,
    private readonly config: BacktestConfig,
  ) {}

  /** Check the request and queue it; the runner picks it up. `canRun` throws when no run could start now. */
  async create(userId: string, input: CreateBacktest, canRun: () => void = () => {}): Promise<RunRow> {
    const from = parseTime("from", input.from);
    const to = parseTime("to", input.to);
    checkRange(from, to);
    if (to.ms - from.ms > this.config.maxRangeDays * 86_400_000)
      throw new UnprocessableError(`the window may be at most ${this.config.maxRangeDays} days`);
    const venues = [...new Set(input.venues)];
    if (input.strategy === "spread" && venues.length !== 2)
      throw new UnprocessableError("the spread strategy needs two different venues");
    if (input.strategy === "market_maker" && venues.length !== 1)
      throw new UnprocessableError("the market maker trades one venue");
    const entry = this.registry.all.find((i) => i.symbol === input.instrument);
    if (!entry) throw new UnprocessableError(`instrument ${input.instrument} is not in the registry`);
    for (const v of venues)
      if (!(v.toLowerCase() in entry.venues))
        throw new UnprocessableError(`${input.instrument} is not listed on ${v}`);
    const params = input.params ?? {};
    for (const key of ["tradeSize", "maxInventory"] as const)
      if (params[key] !== undefined && Number(params[key]) <= 0)
        throw new UnprocessableError(`params.${key} must be greater than 0`);
    const files = await this.archiveFiles(venues, new Date(from.ms), new Date(to.ms));
    if (!files.some((f) => !f.startsWith("feed_events/")))
      throw new UnprocessableError(
        `the archive holds no trades or book changes of ${venues.join(", ")} in [${from.text}, ${to.text})`,
      );
    canRun();
    return this.db.transaction(async (tx) => {
      // One user's jobs are counted under a lock on the user, so two requests cannot both pass the limit.
      await tx.execute(dsql`SELECT pg_advisory_xact_lock(hashtext(${userId}))`);
      const [open] = await tx
        .select({ n: dsql<number>`count(*)::int` })
        .from(backtestRuns)
        .where(and(eq(backtestRuns.userId, userId), inArray(backtestRuns.status, ["queued", "running"])));
      if ((open?.n ?? 0) >= this.config.maxQueued)
        throw new TooManyRequestsError(
          `at most ${this.config.maxQueued} backtests may be queued or running at once`,
          5,
        );
      const [row] = await tx
        .insert(backtestRuns)
        .values({
          userId,
          status: "queued",
          strategy: input.strategy,
          instrument: input.instrument,
          venues,
          fromTime: new Date(from.ms),
          toTime: new Date(to.ms),
          params,
        })
        .returning();
      return row!;
    });
  }

  /** Verified archive partitions of the venues' exchanges that overlap [from, to), relative to ARCHIVE_DIR. */
  async archiveFiles(venues: readonly string[], from: Date, to: Date): Promise<string[]> {
    return (await this.archiveFileRows(venues, from, to)).map((r) => r.path);
  }

  /** archiveFiles with each file's sha256 (an S3 store checks the copies it fetches against it). */
  async archiveFileRows(venues: readonly string[], from: Date, to: Date) {
    return this.db
      .select({ path: archiveManifest.path, sha256: archiveManifest.sha256 })
      .from(archiveManifest)
      .where(
        and(
          inArray(archiveManifest.dataset, [...BACKTEST_DATASETS]),
          inArray(archiveManifest.exchange, venues.map(exchangeCode)),
          dsql`${archiveManifest.partitionStart} < ${to.toISOString()}`,
          dsql`${archiveManifest.partitionEnd} > ${from.toISOString()}`,
        ),
      )
      .orderBy(archiveManifest.dataset, archiveManifest.exchange, archiveManifest.partitionStart);
  }

  async list(userId: string, limit: number) {
    const rows = await this.db
      .select()
      .from(backtestRuns)
      .leftJoin(backtestStats, eq(backtestStats.runId, backtestRuns.id))
      .where(eq(backtestRuns.userId, userId))
      .orderBy(desc(backtestRuns.createdAt), desc(backtestRuns.id))
      .limit(limit);
    return rows.map((r) => runJson(r.backtest_runs, r.backtest_stats));
  }

  /** One run without its result rows. */
  async run(userId: string, id: string) {
    const [row] = await this.db
      .select()
      .from(backtestRuns)
      .leftJoin(backtestStats, eq(backtestStats.runId, backtestRuns.id))
      .where(and(eq(backtestRuns.id, id), eq(backtestRuns.userId, userId)));
    if (!row) throw new NotFoundError("no such backtest");
    return runJson(row.backtest_runs, row.backtest_stats);
  }

  async get(userId: string, id: string) {
    const run = await this.run(userId, id);
    const [orders, fills, positions, equity] = await Promise.all([
      this.db.select().from(backtestOrders).where(eq(backtestOrders.runId, id)).orderBy(backtestOrders.seq),
      this.db.select().from(backtestFills).where(eq(backtestFills.runId, id)).orderBy(backtestFills.seq),
      this.db
        .select()
        .from(backtestPositions)
        .where(eq(backtestPositions.runId, id))
        .orderBy(backtestPositions.instrument),
      this.db.select().from(backtestEquity).where(eq(backtestEquity.runId, id)).orderBy(backtestEquity.seq),
    ]);
    return {
      ...run,
      orders: orders.map(({ runId: _r, seq: _s, tsInit, tsLast: _l, ...o }) => ({
        ...o,
        ...nsInstant(tsInit),
      })),
      fills: fills.map(({ runId: _r, seq: _s, ts, ...f }) => ({ ...f, ...nsInstant(ts) })),
      positions: positions.map(({ runId: _r, openedNs, ...p }) => ({
        ...p,
        openedTime: nsInstant(openedNs).time,
      })),
      equity: equity.map((p) => ({ ...nsInstant(p.ts), equity: p.equity })),
    };
  }
}

function runJson(r: RunRow, s: StatsRow | null) {
  return {
    id: r.id,
    status: r.status as "queued" | "running" | "done" | "failed",
    strategy: r.strategy,
    instrument: r.instrument,
    venues: r.venues,
    from: instant(r.fromTime),
    to: instant(r.toTime),
    params: r.params as Record<string, unknown>,
    error: r.error,
    data: (r.data as Record<string, unknown> | null) ?? null,
    stats: s ? statsJson(s) : null,
    createdAt: instant(r.createdAt),
    startedAt: r.startedAt ? instant(r.startedAt) : null,
    finishedAt: r.finishedAt ? instant(r.finishedAt) : null,
  };
}

function statsJson({ runId: _r, firstNs, lastNs, ...s }: StatsRow) {
  return {
    ...s,
    firstTime: firstNs === null ? null : nsInstant(firstNs).time,
    lastTime: lastNs === null ? null : nsInstant(lastNs).time,
  };
}
