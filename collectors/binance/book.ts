// Local order book procedure, as Binance documents it:
// https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#how-to-manage-a-local-order-book-correctly
//  1. buffer the diffs of a symbol; 2. GET the REST snapshot; 3. if its lastUpdateId is older than the first
//  buffered U, fetch again; 4. discard buffered diffs with u <= lastUpdateId; 5. the first diff applied must
//  have U <= lastUpdateId+1 <= u; 6. after that, a diff with u <= book id is ignored, and U > book id + 1
//  means diffs were lost: restart. (Normally U == previous u + 1; an overlapping diff is applied as the docs
//  allow, since its quantities are absolute.)
// A failure restarts that one symbol through ctx.resync (rate limited, jittered); other symbols keep going.
import { ResyncReason, Status } from "../../schema/frame.ts";
import type { Instrument } from "../../schema/instruments.ts";
import { OrderBook } from "../core/book.ts";
import { JsonKind, JsonScanner, parseDigits } from "../core/json.ts";
import type { FeedContext } from "../core/types.ts";
import type { DepthWriter } from "./depth.ts";
import type { BinanceMetrics } from "./metrics.ts";

/** Diffs kept per symbol while its snapshot is on the way (100 ms diffs: ~3 minutes). */
export const MAX_BUFFERED_DIFFS = 2000;

/** One depthUpdate, as ranges of its message text. */
export interface Diff {
  text: string;
  U: number;
  u: number;
  eventTime: number;
  b: number;
  bEnd: number;
  a: number;
  aEnd: number;
}

export class SnapshotError extends Error {
  override name = "SnapshotError";
}

export class SymbolBook {
  readonly book = new OrderBook();
  synced = false;
  /** The book's update id: the snapshot's lastUpdateId, then each applied diff's u. */
  lastId = 0;
  /** Bumped on every reset, so a snapshot fetched for an older state is thrown away. */
  generation = 0;
  buffer: Diff[] = [];
  /** The resync job (one function per symbol, made once). */
  readonly run: () => Promise<void>;

  constructor(
    readonly instrument: Instrument,
    readonly venueSymbol: string,
    sync: BookSync,
  ) {
    this.run = () => sync.fetchAndApply(this);
  }
}

const Step = { Applied: 0, Gap: 1, Failed: 2 } as const;
type Step = (typeof Step)[keyof typeof Step];

export class BookSync {
  readonly symbols: SymbolBook[];
  private ctx: FeedContext | null = null;
  private connected = false;
  private readonly cursor = new JsonScanner();

  constructor(
    instruments: readonly Instrument[],
    private readonly depth: DepthWriter,
    /** GET the snapshot body of one symbol (Binance's name); throws when it cannot. */
    private readonly fetchSnapshot: (venueSymbol: string) => Promise<string>,
    private readonly metrics: (ctx: FeedContext) => BinanceMetrics,
    /** Levels kept per side: the book is only for crossed-book detection, and levels beyond the snapshot's
     *  depth are unknown anyway. Keeping the best ones bounds memory and insertion cost; a truncated book can
     *  miss a cross but never invents one (its best bid is never above, its best ask never below, the truth). */
    private readonly maxLevels: number,
  ) {
    this.symbols = instruments.map((i) => new SymbolBook(i, i.venues.binance!.symbol, this));
  }

  /** A connection opened: every book starts over (its diffs are buffered until its snapshot arrives). */
  open(ctx: FeedContext): void {
    this.ctx = ctx;
    this.connected = true;
    for (const sym of this.symbols) this.desync(ctx, sym, ResyncReason.Reconnect);
  }

  close(): void {
    this.connected = false;
    for (const sym of this.symbols) this.reset(sym);
  }

  /** A live diff for one symbol. `diff` may be the caller's scratch object: it is copied if kept. */
  onDiff(ctx: FeedContext, sym: SymbolBook, diff: Diff): void {
    if (!sym.synced) {
      if (this.connected) this.buffer(ctx, sym, diff);
      return;
    }
    if (this.step(ctx, sym, diff) === Step.Gap) this.buffer(ctx, sym, diff);
  }

  /** A diff for this symbol arrived unreadable: a synced book has lost an update. (While buffering, the hole
   *  shows up as a gap after the snapshot, unless the snapshot already covers it.) */
  lost(ctx: FeedContext, sym: SymbolBook): void {
    if (sym.synced) this.desync(ctx, sym, ResyncReason.SequenceGap);
  }

  /** The resync job: fetch (rate limited by the REST client) and apply, unless superseded meanwhile. */
  async fetchAndApply(sym: SymbolBook): Promise<void> {
    if (!this.connected || sym.synced) return;
    const generation = sym.generation;
    const body = await this.fetchSnapshot(sym.venueSymbol);
    const ctx = this.ctx;
    if (!ctx || !this.connected || sym.synced || generation !== sym.generation) return;
    // Frames from a REST response carry its receive time, not the last WebSocket message's.
    ctx.emitter.markReceived();
    this.applySnapshot(ctx, sym, body);
  }

  /** Apply a snapshot body; throws SnapshotError (the scheduler retries) if it is unusable or too old. */
  applySnapshot(ctx: FeedContext, sym: SymbolBook, body: string): void {
    const c = this.cursor;
    let lastUpdateId = Number.NaN;
    let b = -1;
    let bEnd = -1;
    let a = -1;
    let aEnd = -1;
    c.reset(body);
    if (c.openObject())
      while (c.nextMember()) {
        if (c.keyIs("lastUpdateId") && c.kind === JsonKind.Number)
          lastUpdateId = parseDigits(body, c.start, c.stop);
        else if (c.keyIs("bids") && c.kind === JsonKind.Array) {
          b = c.start;
          bEnd = c.stop;
        } else if (c.keyIs("asks") && c.kind === JsonKind.Array) {
          a = c.start;
          aEnd = c.stop;
        }
      }
    if (c.bad || !c.atEnd() || !(lastUpdateId >= 0) || b < 0 || a < 0) {
      ctx.metrics.parseError("bad_snapshot");
      throw new SnapshotError(`${sym.venueSymbol}: malformed depth snapshot: ${body.slice(0, 200)}`);
    }
    // Steps 3-4: drop what the snapshot already contains; if the oldest diff left starts after it, the
    // snapshot is older than our buffer (the REST cache lags): fetch again.
    const buffered = sym.buffer.filter((d) => d.u > lastUpdateId);
    if (buffered.length > 0 && buffered[0]!.U > lastUpdateId + 1) {
      sym.buffer = buffered;
      throw new SnapshotError(
        `${sym.venueSymbol}: snapshot ${lastUpdateId} older than the first buffered diff U=${buffered[0]!.U}`,
      );
    }
    const inst = sym.instrument;
    if (!this.depth.applySnapshot(ctx, sym.book, inst, body, lastUpdateId, b, bEnd, a, aEnd)) {
      sym.buffer = buffered;
      throw new SnapshotError(`${sym.venueSymbol}: snapshot has a malformed or unrepresentable level`);
    }
    this.metrics(ctx).snapshots.inc();
    sym.book.truncate(this.maxLevels);
    sym.lastId = lastUpdateId;
    sym.synced = true;
    sym.buffer = [];
    for (let i = 0; i < buffered.length; i++) {
      const step = this.step(ctx, sym, buffered[i]!);
      if (step === Step.Gap) sym.buffer = buffered.slice(i); // still useful to the next snapshot
      if (step !== Step.Applied) return;
    }
    if (sym.book.isCrossed()) {
      this.desync(ctx, sym, ResyncReason.CrossedBook);
      return;
    }
    ctx.emitter.status(Status.BookSynced, inst.id, sym.lastId, 0);
  }

  /** Steady state for one diff on a synced book. */
  private step(ctx: FeedContext, sym: SymbolBook, d: Diff): Step {
    if (d.u <= sym.lastId) {
      this.metrics(ctx).staleDiffs.inc();
      return Step.Applied;
    }
    const inst = sym.instrument;
    if (d.U > sym.lastId + 1) {
      const missing = d.U - sym.lastId - 1;
      ctx.metrics.gaps.inc();
      ctx.emitter.status(Status.Gap, inst.id, sym.lastId + 1, missing);
      ctx.log.limited("warn", `gap_${inst.id}`, "binance depth gap: resyncing the symbol", {
        symbol: inst.symbol,
        bookId: sym.lastId,
        U: d.U,
        u: d.u,
      });
      this.desync(ctx, sym, ResyncReason.SequenceGap);
      return Step.Gap;
    }
    if (!this.depth.applyDiff(ctx, sym.book, inst, d.text, d.u, d.eventTime, d.b, d.bEnd, d.a, d.aEnd)) {
      // A diff we could not apply is a lost update: the book cannot be trusted any more.
      this.desync(ctx, sym, ResyncReason.SequenceGap);
      return Step.Failed;
    }
    sym.lastId = d.u;
    sym.book.truncate(this.maxLevels);
    if (sym.book.isCrossed()) {
      ctx.log.limited("warn", `crossed_${inst.id}`, "binance book crossed: resyncing the symbol", {
        symbol: inst.symbol,
        bookId: sym.lastId,
      });
      this.desync(ctx, sym, ResyncReason.CrossedBook);
      return Step.Failed;
    }
    return Step.Applied;
  }

  private desync(ctx: FeedContext, sym: SymbolBook, reason: ResyncReason): void {
    this.reset(sym);
    ctx.resync(sym.instrument.id, reason, sym.run);
  }

  private reset(sym: SymbolBook): void {
    sym.synced = false;
    sym.generation++;
    sym.buffer = [];
    sym.book.clear();
  }

  private buffer(ctx: FeedContext, sym: SymbolBook, diff: Diff): void {
    if (sym.buffer.length >= MAX_BUFFERED_DIFFS) {
      sym.buffer.shift();
      this.metrics(ctx).bufferDropped.inc();
    }
    sym.buffer.push({ ...diff });
  }
}
