// Kraken v2 `book` channel → BookLevel frames, each message verified against Kraken's CRC32 before any of
// its frames leave. Docs: https://docs.kraken.com/api/docs/websocket-v2/book and the checksum guide
// https://docs.kraken.com/api/docs/guides/spot-ws-book-v2
//
// Frames: a snapshot is its levels with FLAG_SNAPSHOT, the first also FLAG_BEGIN, the last also FLAG_END (an
// empty book is one size-0 frame with all three); an update is its level changes in message order, the
// last with FLAG_END. Every frame's id is the message's checksum. Levels Kraken pushes out of the
// subscribed depth produce no frame: consumers truncate to the depth themselves (README).
import { writeRfc3339Ns } from "../../schema/clock.ts";
import { parseFixed } from "../../schema/decimal.ts";
import { FLAG_SNAPSHOT, ResyncReason, Status } from "../../schema/frame.ts";
import { badValue, parseProblem } from "../core/bad-value.ts";
import { BookState } from "../core/book.ts";
import { JsonKind, type JsonScanner } from "../core/json.ts";
import { markEnd, stageEmptySnapshot } from "../core/stage.ts";
import type { FeedContext } from "../core/types.ts";
import { bookChecksum } from "./checksum.ts";
import { LevelError, LevelReader } from "./levels.ts";
import type { BookResyncer } from "./resync.ts";
import type { SymbolTable } from "./symbols.ts";

const tsScratch = new DataView(new ArrayBuffer(8));

export class KrakenBookParser {
  private readonly levels = new LevelReader();

  constructor(
    private readonly symbols: SymbolTable,
    private readonly depth: number,
    private readonly resyncer: BookResyncer,
  ) {}

  /** Parse the `data` array at the cursor: one element per symbol (Kraken sends exactly one). */
  parse(sc: JsonScanner, snapshot: boolean, ctx: FeedContext): void {
    if (!sc.openArray()) return;
    while (sc.nextItem()) {
      this.element(sc, snapshot, ctx);
      if (sc.bad) return;
    }
  }

  private element(sc: JsonScanner, snapshot: boolean, ctx: FeedContext): void {
    if (!sc.openObject()) return;
    const text = sc.text;
    let symStart = -1;
    let symEnd = -1;
    let firstSide = -1;
    let firstSideEnd = -1;
    let secondSide = -1;
    let secondSideEnd = -1;
    let firstIsAsk = false;
    let sumStart = -1;
    let sumEnd = -1;
    let tsStart = -1;
    let tsEnd = -1;
    while (sc.nextKey()) {
      const isBids = sc.keyIs("bids");
      if (isBids || sc.keyIs("asks")) {
        if (!sc.skip() || sc.kind !== JsonKind.Array) return void sc.fail();
        if (firstSide < 0) {
          firstSide = sc.start;
          firstSideEnd = sc.stop;
          firstIsAsk = !isBids;
        } else {
          secondSide = sc.start;
          secondSideEnd = sc.stop;
        }
        continue;
      }
      if (!sc.skip()) break;
      const kind = sc.kind;
      if (sc.keyIs("symbol") && kind === JsonKind.String) {
        symStart = sc.start;
        symEnd = sc.stop;
      } else if (sc.keyIs("checksum") && kind === JsonKind.Number) {
        sumStart = sc.start;
        sumEnd = sc.stop;
      } else if (sc.keyIs("timestamp") && kind === JsonKind.String) {
        tsStart = sc.start;
        tsEnd = sc.stop;
      }
    }
    if (sc.bad) return;
    const sym = symStart < 0 ? undefined : this.symbols.resolve(text, symStart, symEnd);
    if (sym === undefined) {
      parseProblem(ctx, symStart < 0 ? "missing_field" : "unknown_symbol", text);
      return;
    }
    ctx.touch(sym.instrument);
    if (!snapshot && sym.bookState !== BookState.Synced) {
      // Resyncing: ignored until the new snapshot. Awaiting the first snapshot yet getting updates means the
      // snapshot was lost, so the book can only be rebuilt by asking again.
      if (sym.bookState === BookState.AwaitingSnapshot)
        this.resyncer.request(sym, ResyncReason.SequenceGap, ctx);
      return;
    }
    const checksum = sumStart < 0 ? -1 : parseFixed(text, 0, sumStart, sumEnd);
    if (!(checksum >= 0 && checksum <= 0xffffffff)) {
      // Not a mismatch: the field itself is unusable, so the book cannot be verified (its own reason code).
      parseProblem(ctx, "bad_checksum_field", text);
      this.resyncer.request(sym, ResyncReason.BadChecksumField, ctx);
      return;
    }
    let tsLo = 0;
    let tsHi = 0;
    if (tsStart >= 0) {
      if (writeRfc3339Ns(tsScratch, 0, text, tsStart, tsEnd)) {
        tsLo = tsScratch.getUint32(0, true);
        tsHi = tsScratch.getInt32(4, true);
      } else parseProblem(ctx, "bad_timestamp", text);
    }

    const book = sym.book;
    if (snapshot) book.clear();
    const levels = this.levels;
    levels.reset();
    const flags = snapshot ? FLAG_SNAPSHOT : 0;
    // The element's shape was checked by the walk above; what went wrong inside a side is this element's
    // problem (counted below), not a malformed message.
    if (firstSide >= 0)
      levels.side(text, firstSide, firstSideEnd, firstIsAsk, flags, sym, checksum, tsLo, tsHi, ctx);
    if (secondSide >= 0 && levels.error === LevelError.None)
      levels.side(text, secondSide, secondSideEnd, !firstIsAsk, flags, sym, checksum, tsLo, tsHi, ctx);
    if (levels.error !== LevelError.None) {
      ctx.emitter.rollback();
      if (levels.error === LevelError.Number) badValue(ctx, sym.instrument, "level", text);
      else parseProblem(ctx, "bad_level", text);
      this.resyncer.request(sym, ResyncReason.BadLevel, ctx);
      return;
    }
    book.truncate(this.depth);
    const ours = bookChecksum(book, sym);
    if (ours !== checksum) {
      ctx.emitter.rollback();
      ctx.metrics.checksumFailures.inc();
      ctx.log.limited(
        "warn",
        `kraken_checksum_${sym.instrument}`,
        "kraken book checksum mismatch, resyncing",
        {
          symbol: sym.venueSymbol,
          expected: checksum,
          computed: ours,
          snapshot,
        },
      );
      this.resyncer.request(sym, ResyncReason.Checksum, ctx);
      return;
    }
    if (book.isCrossed()) {
      ctx.emitter.rollback();
      ctx.log.limited("warn", `kraken_crossed_${sym.instrument}`, "kraken book crossed, resyncing", {
        symbol: sym.venueSymbol,
      });
      this.resyncer.request(sym, ResyncReason.CrossedBook, ctx);
      return;
    }
    if (levels.frames === 0 && snapshot)
      stageEmptySnapshot(ctx.emitter, sym.instrument, checksum, tsLo, tsHi);
    else if (levels.lastOffset >= 0) markEnd(ctx.emitter, levels.lastOffset);
    ctx.emitter.commit();
    if (snapshot) {
      sym.bookState = BookState.Synced;
      this.resyncer.synced(sym);
      if (sym.resynced) {
        sym.resynced = false;
        ctx.emitter.status(Status.BookSynced, sym.instrument, checksum, 0);
      }
    }
  }
}
