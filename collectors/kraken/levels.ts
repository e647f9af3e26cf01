// One side of a Kraken v2 book message ({"price":…,"qty":…} objects) applied to our book and staged as
// BookLevel frames, in message order. Docs: https://docs.kraken.com/api/docs/websocket-v2/book
import { parseFixed } from "../../schema/decimal.ts";
import { FLAG_ASK, FLAG_BEGIN, Kind, writeId, writePrice, writeSize } from "../../schema/frame.ts";
import type { FeedContext } from "../core/types.ts";
import { type JsonScanner, Value } from "./scan.ts";
import type { KrakenSymbol } from "./symbols.ts";

/** Why a level could not be applied; the message is rolled back and the symbol resynced. */
export const LevelError = { None: 0, Malformed: 1, Number: 2 } as const;

export class LevelReader {
  error: number = LevelError.None;
  /** Offset of the last staged frame (-1: none), and how many this message staged. */
  lastOffset = -1;
  frames = 0;
  private price = 0;
  private size = 0;

  reset(): void {
    this.error = LevelError.None;
    this.lastOffset = -1;
    this.frames = 0;
  }

  /** Apply and stage one side's levels, in message order. Sets levelError and stops on bad input. */
  side(
    sc: JsonScanner,
    at: number,
    isAsk: boolean,
    flags: number,
    sym: KrakenSymbol,
    checksum: number,
    tsLo: number,
    tsHi: number,
    ctx: FeedContext,
  ): void {
    sc.pos = at;
    sc.openArray();
    const view = ctx.emitter.view;
    const sideFlags = flags | (isAsk ? FLAG_ASK : 0);
    while (sc.nextElement()) {
      if (!this.level(sc, sym)) {
        if (this.error === LevelError.None) this.error = LevelError.Malformed;
        return;
      }
      sym.book.set(isAsk, this.price, this.size);
      const first = this.frames === 0 && flags !== 0;
      const off = ctx.emitter.begin(
        Kind.BookLevel,
        first ? sideFlags | FLAG_BEGIN : sideFlags,
        sym.instrument,
      );
      writeId(view, off, checksum);
      writePrice(view, off, this.price);
      writeSize(view, off, this.size);
      view.setUint32(off + 32, tsLo, true);
      view.setInt32(off + 36, tsHi, true);
      this.lastOffset = off;
      this.frames++;
    }
    if (sc.failed) this.error = LevelError.Malformed;
  }

  /** Read one {"price":…,"qty":…} into this.price / this.size; false if it is anything else. */
  private level(sc: JsonScanner, sym: KrakenSymbol): boolean {
    if (!sc.openObject()) return false;
    const text = sc.text;
    this.price = Number.NaN;
    this.size = Number.NaN;
    while (sc.nextKey()) {
      const kind = sc.readValue();
      const isPrice = sc.keyIs("price");
      if (!isPrice && !sc.keyIs("qty")) continue;
      if (kind !== Value.Number && kind !== Value.String) return false;
      const v = parseFixed(text, isPrice ? sym.priceDecimals : sym.sizeDecimals, sc.valStart, sc.valEnd);
      if (Number.isNaN(v) || v < 0) {
        this.error = LevelError.Number;
        return false;
      }
      if (isPrice) this.price = v;
      else this.size = v;
    }
    return !sc.failed && !Number.isNaN(this.price) && !Number.isNaN(this.size);
  }
}
