// REST backfill (issue 10 §5): a trade-id gap the collector sees live (a dropped message, a reconnect, a
// restart) is filled from the exchange's public trade history where it still has the trades. Backfilled
// trades are emitted as Trade frames with FLAG_BACKFILL after the trade_gap that announced the hole, so the
// database fills in and the gap is closed by data; what the exchange no longer serves stays a gap (counted).
// One request at a time, paced to the venue's rate (`history.requestsPerSecond`; Binance also spends its
// REST weight budget). A restart resumes from the state file: the last trade id per symbol, written every
// few seconds and on stop (temp + fsync + rename), seeds the trade-id tracker so the first live trade
// reveals what was missed while the collector was down.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseFixed } from "../../schema/decimal.ts";
import { FLAG_BACKFILL, writeTsExchangeParts } from "../../schema/frame.ts";
import type { Instrument } from "../../schema/instruments.ts";
import type { CollectorContext } from "./context.ts";
import { stageTrade } from "./stage.ts";
import type { FeedContext } from "./types.ts";

/** One trade from an exchange's REST history, as mantissas at the instrument's decimals. */
export interface HistoricTrade {
  id: number;
  price: number;
  size: number;
  /** FLAG_TAKER_BUY / FLAG_TAKER_SELL / 0. */
  side: number;
  /** Exchange time, ns since the epoch. */
  timeNs: bigint;
}

/** A venue's public REST trade history (`<venue>/history.ts`). */
export interface TradeHistory {
  readonly requestsPerSecond: number;
  /**
   * Trades of `instrument` with ids >= fromId, oldest first, as many as one request gives; [] when the
   * exchange has none of them any more. `sinceMs`: about when the trade before fromId arrived (venues that
   * page by time start there). Throws on a failed request (the backfill retries with backoff).
   */
  fetch(ctx: FeedContext, instrument: Instrument, fromId: number, sinceMs: number): Promise<HistoricTrade[]>;
}

interface Job {
  instrument: number;
  from: number;
  to: number;
  sinceMs: number;
  attempts: number;
  pages: number;
}

const MAX_ATTEMPTS = 5;
/** A gap longer than this many pages is left as a gap beyond them (a venue's history is finite anyway). */
const MAX_PAGES = 100;

export class Backfill {
  private readonly jobs: Job[] = [];
  private running = false;
  private stopped = false;
  private lastRequest = 0;
  /** What the state file holds now (nothing is written when it would not change). */
  private saved = "";
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Resolves when the queue is empty (tests, shutdown). */
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: CollectorContext,
    private readonly history: TradeHistory,
    private readonly statePath?: string,
  ) {
    ctx.trades.onGap = (instrument, from, missing, sinceMs) =>
      this.enqueue({ instrument, from, to: from + missing - 1, sinceMs, attempts: 0, pages: 0 });
    if (statePath) {
      this.load(statePath);
      this.timer = setInterval(() => this.save(), 2000);
      this.timer.unref();
    }
  }

  get queued(): number {
    return this.jobs.length + (this.running ? 1 : 0);
  }

  /** Wait until every queued gap has been fetched or given up. */
  drained(): Promise<void> {
    return this.idle;
  }

  private enqueue(job: Job): void {
    if (this.stopped) return;
    this.jobs.push(job);
    if (!this.running) {
      this.running = true;
      this.idle = this.run();
    }
  }

  private async run(): Promise<void> {
    const ctx = this.ctx;
    for (let job = this.jobs.shift(); job && !this.stopped; job = this.jobs.shift()) {
      const inst = ctx.registry.byId(job.instrument);
      if (!inst) continue;
      const wait = this.lastRequest + 1000 / this.history.requestsPerSecond - Date.now();
      if (wait > 0) await Bun.sleep(wait);
      this.lastRequest = Date.now();
      let page: HistoricTrade[];
      try {
        page = await this.history.fetch(ctx, inst, job.from, job.sinceMs);
      } catch (error) {
        ctx.metrics.backfillErrors.inc();
        if (++job.attempts >= MAX_ATTEMPTS) this.giveUp(inst, job, String(error));
        else {
          ctx.log.limited("warn", "backfill_retry", "backfill request failed, retrying", {
            symbol: inst.symbol,
            error,
          });
          await Bun.sleep(Math.min(30_000, 500 * 2 ** job.attempts));
          this.jobs.unshift(job);
        }
        continue;
      }
      if (this.stopped) break;
      const next = this.emit(inst, job, page);
      if (next > job.to) continue;
      // Venues paging by time may answer with trades before the range only: the cursor still moved on.
      const sinceMs = this.lastMs(page, job.sinceMs);
      const moved =
        next > job.from || (page.length > 0 && page[page.length - 1]!.id < job.from && sinceMs > job.sinceMs);
      if (!moved || ++job.pages > MAX_PAGES)
        this.giveUp(inst, { ...job, from: next }, "the exchange no longer serves these trades");
      else this.jobs.unshift({ ...job, from: next, sinceMs });
    }
    this.running = false;
  }

  /** Emit the page's trades within the job's range; returns the first id still missing. */
  private emit(inst: Instrument, job: Job, page: HistoricTrade[]): number {
    const em = this.ctx.emitter;
    em.markReceived();
    let next = job.from;
    let emitted = 0;
    for (const t of page) {
      if (t.id < next || t.id > job.to) continue;
      // A hole inside the page is trades the exchange itself no longer has: the rest still fills.
      if (t.id > next) this.ctx.metrics.backfillMissing.inc(t.id - next);
      const off = stageTrade(em, inst.id, t.side | FLAG_BACKFILL, t.id, t.price, t.size);
      writeTsExchangeParts(em.view, off, Number(t.timeNs & 0xffffffffn), Number(t.timeNs >> 32n));
      next = t.id + 1;
      emitted++;
    }
    em.commit();
    this.ctx.metrics.backfilledTrades.inc(emitted);
    return next;
  }

  private lastMs(page: HistoricTrade[], fallback: number): number {
    const last = page[page.length - 1];
    return last ? Number(last.timeNs / 1_000_000n) : fallback;
  }

  private giveUp(inst: Instrument, job: Job, reason: string): void {
    const missing = job.to - job.from + 1;
    this.ctx.metrics.backfillMissing.inc(missing);
    this.ctx.log.warn("trade gap not backfilled: it stays a gap", {
      symbol: inst.symbol,
      firstMissing: job.from,
      missing,
      reason,
    });
  }

  /** Seed the trade-id tracker from the last run's state file (a missing or bad file starts fresh). */
  private load(path: string): void {
    let state: Record<string, { id: number; ms: number }>;
    try {
      state = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT")
        this.ctx.log.warn("collector state unreadable, starting without it", { path, error });
      return;
    }
    for (const [symbol, { id, ms }] of Object.entries(state)) {
      const inst = this.ctx.registry.bySymbol(symbol);
      if (inst && Number.isSafeInteger(id) && id >= 0) this.ctx.trades.seed(inst.id, id, Number(ms) || 0);
    }
  }

  /** Write the last trade id per symbol, atomically: a crash leaves the old file or the new one. */
  save(): void {
    const path = this.statePath;
    if (!path) return;
    const trades = this.ctx.trades;
    const state: Record<string, { id: number; ms: number }> = {};
    for (const inst of this.ctx.registry.all) {
      const id = trades.lastId(inst.id);
      if (id >= 0) state[inst.symbol] = { id, ms: trades.lastSeenMs(inst.id) };
    }
    const text = JSON.stringify(state);
    if (text === this.saved) return;
    this.saved = text;
    mkdirSync(join(path, ".."), { recursive: true });
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.save();
  }
}

export const statePathFor = (dir: string, exchange: string): string => join(dir, `${exchange}-trades.json`);

/** One history row as a HistoricTrade, or undefined (counted as a parse error) if a value does not fit. */
export function historicTrade(
  ctx: FeedContext,
  inst: Instrument,
  id: unknown,
  price: unknown,
  size: unknown,
  side: number,
  timeNs: bigint,
): HistoricTrade | undefined {
  const p = typeof price === "string" ? parseFixed(price, inst.priceDecimals) : Number.NaN;
  const q = typeof size === "string" ? parseFixed(size, inst.sizeDecimals) : Number.NaN;
  const n = typeof id === "string" ? Number(id) : id;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0 || !(p > 0) || !(q > 0)) {
    ctx.metrics.parseError("bad_history_trade");
    return undefined;
  }
  return { id: n, price: p, size: q, side, timeNs };
}

/** GET a public REST resource as JSON; throws with the status and body on anything but 200. */
export async function getJson(url: string, timeoutMs = 10_000): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url}: HTTP ${response.status} ${body.slice(0, 200)}`);
  return JSON.parse(body);
}
