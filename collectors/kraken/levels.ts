// One side of a Kraken v2 book message ({"price":…,"qty":…} objects) applied to our book and staged as
// BookLevel frames, in message order. Docs: https://docs.kraken.com/api/docs/websocket-v2/book
import { parseFixed } from "../../schema/decimal.ts";
import { FLAG_ASK, FLAG_BEGIN } from "../../schema/frame.ts";
import { JsonKind, JsonScanner } from "../core/json.ts";
import { stageLevel } from "../core/stage.ts";
import type { FeedContext } from "../core/types.ts";
import type { KrakenSymbol } from "./symbols.ts";

/** Why a level could not be applied; the message is rolled back and the symbol resynced. */
export const LevelError = { None: 0, Malformed: 1, Number: 2 } as const;

export class LevelReader {
  error: number = LevelError.None;
  /** Offset of the last staged frame (-1: none), and how many this message staged. */
  lastOffset = -1;
  frames = 0;
  private price = 0;
  /** The side's own cursor: the message's scanner has already walked past it. */
  private readonly sc = new JsonScanner();
  private size = 0;

  reset(): void {
    this.error = LevelError.None;
    this.lastOffset = -1;
    this.frames = 0;
  }

  /** Apply and stage one side's levels, in message order. Sets levelError and stops on bad input. */
  side(
    text: string,
    start: number,
    stop: number,
    isAsk: boolean,
    flags: number,
    sym: KrakenSymbol,
    checksum: number,
    tsLo: number,
    tsHi: number,
    ctx: FeedContext,
  ): void {
    const sc = this.sc;
    sc.reset(text, start, stop);
    sc.openArray();
    const sideFlags = flags | (isAsk ? FLAG_ASK : 0);
    while (sc.nextItem()) {
      if (!this.level(sc, sym)) {
        if (this.error === LevelError.None) this.error = LevelError.Malformed;
        return;
      }
      sym.book.set(isAsk, this.price, this.size);
      const first = this.frames === 0 && flags !== 0;
      const flagsNow = first ? sideFlags | FLAG_BEGIN : sideFlags;
      this.lastOffset = stageLevel(
        ctx.emitter,
        sym.instrument,
        flagsNow,
        checksum,
        this.price,
        this.size,
        tsLo,
        tsHi,
      );
      this.frames++;
    }
    if (sc.bad) this.error = LevelError.Malformed;
  }

  /** Read one {"price":…,"qty":…} into this.price / this.size; false if it is anything else. */
  private level(sc: JsonScanner, sym: KrakenSymbol): boolean {
    if (!sc.openObject()) return false;
    const text = sc.text;
    this.price = Number.NaN;
    this.size = Number.NaN;
    while (sc.nextKey()) {
      if (!sc.skip()) break;
      const kind = sc.kind;
      const isPrice = sc.keyIs("price");
      if (!isPrice && !sc.keyIs("qty")) continue;
      if (kind !== JsonKind.Number && kind !== JsonKind.String) return false;
      const v = parseFixed(text, isPrice ? sym.priceDecimals : sym.sizeDecimals, sc.start, sc.stop);
      if (Number.isNaN(v) || v < 0) {
        this.error = LevelError.Number;
        return false;
      }
      if (isPrice) this.price = v;
      else this.size = v;
    }
    return !sc.bad && !Number.isNaN(this.price) && !Number.isNaN(this.size);
  }
}
