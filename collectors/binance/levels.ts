// Binance depth levels: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#diff-depth-stream
// A reader for level lists [["price","qty"],...] in place, on the shared scanner: the ranges of each price
// and quantity, no strings.
import { JsonKind, JsonScanner } from "../core/json.ts";

/** Walks a Binance level list `[["price","qty"],...]`, giving the ranges of each price and quantity. */
export class LevelCursor {
  private readonly s = new JsonScanner();
  priceStart = 0;
  priceEnd = 0;
  sizeStart = 0;
  sizeEnd = 0;
  failed = false;

  /** `start` must be the '[' of the list and `limit` just past its ']' (a scanned array value). */
  open(text: string, start: number, limit: number): boolean {
    this.s.reset(text, start, limit);
    this.failed = !this.s.openArray();
    return !this.failed;
  }

  next(): boolean {
    const s = this.s;
    if (this.failed || !s.nextItem()) {
      this.failed ||= s.bad;
      return false;
    }
    if (!s.openArray() || !this.scalar()) return this.fail();
    this.priceStart = s.start;
    this.priceEnd = s.stop;
    if (!this.scalar()) return this.fail();
    this.sizeStart = s.start;
    this.sizeEnd = s.stop;
    // Extra elements are tolerated (older feeds carried an ignored third one).
    while (s.nextItem()) s.skip();
    return !s.bad || this.fail();
  }

  private scalar(): boolean {
    const s = this.s;
    return s.nextItem() && s.skip() && (s.kind === JsonKind.String || s.kind === JsonKind.Number);
  }

  private fail(): boolean {
    this.failed = true;
    return false;
  }
}
