// Runs queued backtests one at a time (each is a NautilusTrader engine in its own Python process, on a
// machine whose cores the live path needs): `python -m tapewire_trader.backtest --archive …` in the trader's
// venv, the archive manifest's files for the window, the strategy's TRADER_* settings; its JSON report goes
// to the backtest tables (results.ts). With the archive on S3 the run's files are leased from the store
// (fetched into its local cache, hard-linked into a folder of the lease's own that no eviction touches) and
// that folder is the Python side's --archive; the lease goes when the run ends, however it ends. A run still
// going after BACKTEST_TIMEOUT is killed and marked failed; at start, a run left `running` past the timeout
// (its API process stopped) is marked failed and `queued` ones run again.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { and, asc, eq, lt } from "drizzle-orm";
import type { ArchiveLease, ArchiveStore } from "../../archiver/store.ts";
import type { Logger } from "../../lib/log.ts";
import { backtestRuns } from "../../schema/db/backtests.ts";
import type { Database } from "../db/client.ts";
import { type BacktestReport, storeResults } from "./results.ts";
import type { BacktestService } from "./service.ts";

export interface RunnerOptions {
  /** The trader venv's python. */
  python: string;
  /** trader/ (the package's root: `-m tapewire_trader.backtest` runs from there). */
  traderDir: string;
  /** The archive's local folder (a local ARCHIVE_DIR; unused when `store` is given). */
  archiveRoot: string;
  /** ARCHIVE_DIR=s3://…: the store each run leases its files from; its lease's folder is the run's archive. */
  store?: ArchiveStore;
  timeoutMs: number;
  /** The API's environment: what the Python process may see of it (PATH, HOME, TAPEWIRE_INSTRUMENTS…). */
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
}

const PASSED_ENV = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TAPEWIRE_INSTRUMENTS"] as const;
type Run = typeof backtestRuns.$inferSelect;

/** The TRADER_* settings of a run (trader/tapewire_trader/settings.py reads and checks them again). */
export function traderEnv(run: Pick<Run, "strategy" | "instrument" | "venues" | "params">) {
  const p = run.params as Record<string, unknown>;
  const env: Record<string, string> = {
    TRADER_MODE: "paper",
    TRADER_STRATEGY: run.strategy,
    TRADER_INSTRUMENT: run.instrument,
    TRADER_VENUES: run.venues.join(","),
    TRADER_LOG_LEVEL: "ERROR",
  };
  if (p.tradeSize !== undefined) env.TRADER_TRADE_SIZE = String(p.tradeSize);
  if (p.maxInventory !== undefined) env.TRADER_MAX_INVENTORY = String(p.maxInventory);
  if (p.halfSpreadBps !== undefined) env.TRADER_HALF_SPREAD_BPS = String(p.halfSpreadBps);
  if (p.entryBps !== undefined) env.TRADER_ENTRY_BPS = String(p.entryBps);
  if (Array.isArray(p.startingBalances)) env.TRADER_STARTING_BALANCES = p.startingBalances.join(",");
  return env;
}

export class BacktestRunner {
  private readonly queue: string[] = [];
  private active: Promise<void> | null = null;
  private child: Subprocess | null = null;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly service: BacktestService,
    private readonly opts: RunnerOptions,
  ) {}

  /**
   * Runs `running` for longer than BACKTEST_TIMEOUT have no live runner (every runner kills its job at the
   * timeout): an API process that stopped mid-run. Marked failed; safe with several API processes.
   */
  async failStale(): Promise<number> {
    const cutoff = new Date(Date.now() - this.opts.timeoutMs - 60_000);
    const rows = await this.db
      .update(backtestRuns)
      .set({ status: "failed", error: "interrupted: the API stopped while it ran", finishedAt: new Date() })
      .where(and(eq(backtestRuns.status, "running"), lt(backtestRuns.startedAt, cutoff)))
      .returning({ id: backtestRuns.id });
    return rows.length;
  }

  /** At start: fail stale runs, and queue every queued run (a claim makes each run once across processes). */
  async start(): Promise<void> {
    await this.failStale();
    const queued = await this.db
      .select({ id: backtestRuns.id })
      .from(backtestRuns)
      .where(eq(backtestRuns.status, "queued"))
      .orderBy(asc(backtestRuns.createdAt));
    for (const q of queued) this.enqueue(q.id);
  }

  enqueue(id: string): void {
    if (this.stopped) return;
    this.queue.push(id);
    this.pump();
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.active) await this.active;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    this.child?.kill();
    await this.idle();
  }

  private pump(): void {
    if (this.active || this.stopped) return;
    const id = this.queue.shift();
    if (!id) return;
    this.active = this.execute(id)
      .catch((error) => this.opts.log.error("backtest bookkeeping failed", { runId: id, error }))
      .finally(() => {
        this.active = null;
        this.pump();
      });
  }

  private async execute(id: string): Promise<void> {
    const [run] = await this.db
      .update(backtestRuns)
      .set({ status: "running", startedAt: new Date() })
      .where(and(eq(backtestRuns.id, id), eq(backtestRuns.status, "queued")))
      .returning();
    if (!run) return; // gone, or taken already
    const started = performance.now();
    try {
      const report = await this.spawn(run);
      await storeResults(this.db, id, report);
      this.opts.log.info("backtest done", {
        runId: id,
        fills: report.fills.length,
        ms: Math.round(performance.now() - started),
      });
    } catch (error) {
      const message = (error as Error).message;
      this.opts.log.warn("backtest failed", { runId: id, error: message });
      await this.db
        .update(backtestRuns)
        .set({ status: "failed", error: message.slice(0, 2000), finishedAt: new Date() })
        .where(eq(backtestRuns.id, id));
    }
  }

  private async spawn(run: Run): Promise<BacktestReport> {
    const dir = mkdtempSync(join(tmpdir(), "tw-backtest-"));
    let lease: ArchiveLease | undefined;
    try {
      const rows = await this.service.archiveFileRows(run.venues, run.fromTime, run.toTime);
      const files = rows.map((r) => r.path);
      let archiveRoot = this.opts.archiveRoot;
      if (this.opts.store) {
        lease = await this.opts.store.lease(rows).catch((error: Error) => {
          throw new Error(`backtest: the archive's files could not be fetched: ${error.message}`);
        });
        archiveRoot = lease.root;
      }
      writeFileSync(join(dir, "files.json"), JSON.stringify(files));
      const env: Record<string, string> = { PYTHONDONTWRITEBYTECODE: "1", BUN: process.execPath };
      for (const k of PASSED_ENV) {
        const v = this.opts.env[k] ?? (k === "TAPEWIRE_INSTRUMENTS" ? undefined : process.env[k]);
        if (v) env[k] = v;
      }
      const ns = (d: Date) => (BigInt(d.getTime()) * 1_000_000n).toString();
      const out = join(dir, "result.json");
      const child = Bun.spawn(
        [
          this.opts.python,
          "-m",
          "tapewire_trader.backtest",
          ...["--archive", archiveRoot, "--from", ns(run.fromTime), "--to", ns(run.toTime)],
          ...["--files", join(dir, "files.json"), "--out", out],
        ],
        { cwd: this.opts.traderDir, env: { ...env, ...traderEnv(run) }, stdout: "ignore", stderr: "pipe" },
      );
      this.child = child;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill();
      }, this.opts.timeoutMs);
      const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
      clearTimeout(timer);
      this.child = null;
      if (timedOut) throw new Error(`timed out after ${Math.round(this.opts.timeoutMs / 1000)} s`);
      if (code !== 0) {
        const said = stderr
          .trim()
          .split("\n")
          .reverse()
          .find((l) => l.startsWith("backtest: "));
        throw new Error(said ?? `the backtest process exited ${code}: ${stderr.trim().slice(-500)}`);
      }
      return JSON.parse(readFileSync(out, "utf8")) as BacktestReport;
    } finally {
      lease?.release();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
