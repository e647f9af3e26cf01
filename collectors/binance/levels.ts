// Binance depth levels: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#diff-depth-stream
// A reader for level lists [["price","qty"],...] in place: ranges of each price and quantity, no strings.
import { JsonType, readValue, skipWs, type ValueSlot } from "./scan.ts";

const COMMA = 44;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** Walks a Binance level list `[["price","qty"],...]`, giving the ranges of each price and quantity. */
export class LevelCursor {
  private text = "";
  private pos = 0;
  private limit = 0;
  private first = true;
  private done = false;
  private readonly slot: ValueSlot = { type: JsonType.None, start: 0, end: 0 };
  priceStart = 0;
  priceEnd = 0;
  sizeStart = 0;
  sizeEnd = 0;
  failed = false;

  /** `start` must be the '[' of the list and `limit` just past its ']' (an ObjectCursor array value). */
  open(text: string, start: number, limit: number): boolean {
    this.text = text;
    this.pos = start + 1;
    this.limit = limit;
    this.first = true;
    this.done = false;
    this.failed = text.charCodeAt(start) !== OPEN_BRACKET || start >= limit;
    return !this.failed;
  }

  next(): boolean {
    if (this.failed || this.done) return false;
    const text = this.text;
    const limit = this.limit;
    let pos = skipWs(text, this.pos, limit);
    if (pos >= limit) return this.fail();
    let c = text.charCodeAt(pos);
    if (c === CLOSE_BRACKET) {
      this.done = true;
      return false;
    }
    if (!this.first) {
      if (c !== COMMA) return this.fail();
      pos = skipWs(text, pos + 1, limit);
      c = text.charCodeAt(pos);
    }
    if (c !== OPEN_BRACKET || pos >= limit) return this.fail();
    const slot = this.slot;
    pos = this.scalar(skipWs(text, pos + 1, limit));
    if (pos < 0) return this.fail();
    this.priceStart = slot.start;
    this.priceEnd = slot.end;
    pos = skipWs(text, pos, limit);
    if (text.charCodeAt(pos) !== COMMA) return this.fail();
    pos = this.scalar(skipWs(text, pos + 1, limit));
    if (pos < 0) return this.fail();
    this.sizeStart = slot.start;
    this.sizeEnd = slot.end;
    pos = skipWs(text, pos, limit);
    // Extra elements are tolerated (older feeds carried an ignored third one).
    while (pos < limit && text.charCodeAt(pos) === COMMA) {
      pos = skipWs(text, pos + 1, limit);
      pos = pos < limit ? readValue(text, pos, limit, slot) : -1;
      if (pos < 0) return this.fail();
      pos = skipWs(text, pos, limit);
    }
    if (pos >= limit || text.charCodeAt(pos) !== CLOSE_BRACKET) return this.fail();
    this.pos = pos + 1;
    this.first = false;
    return true;
  }

  private scalar(pos: number): number {
    if (pos >= this.limit) return -1;
    const after = readValue(this.text, pos, this.limit, this.slot);
    const type = this.slot.type;
    return after >= 0 && (type === JsonType.String || type === JsonType.Number) ? after : -1;
  }

  private fail(): boolean {
    this.failed = true;
    return false;
  }
}
