// A zero-allocation JSON scanner over the raw message text. Coinbase sends every price and size as a
// decimal string, so we never need JSON.parse on the hot path: the walkers (enter/nextKey/nextItem/skip)
// read fields as [start, stop) spans that schema/decimal.ts and schema/clock.ts parse in place. The walk is
// strict: any structural error sets `bad` and ends every loop, so one pass both reads and validates a
// message, and callers act on what they collected only once the whole text proved well-formed.
// Depth is bounded and nothing recurses, so hostile input can neither throw nor overflow the stack.

import { literalAt, scanNumber, scanString, skipWs, spanEquals } from "./tokens.ts";

export { parseDigits, spanEquals } from "./tokens.ts";

export const JsonKind = {
  None: 0,
  String: 1,
  Number: 2,
  Object: 3,
  Array: 4,
  True: 5,
  False: 6,
  Null: 7,
} as const;
export type JsonKind = (typeof JsonKind)[keyof typeof JsonKind];

/** Deeper nesting is rejected as malformed (Coinbase messages are 5 levels deep). */
export const MAX_DEPTH = 64;

const OBJ = 1;
const ARR = 2;

export class JsonScanner {
  text = "";
  pos = 0;
  end = 0;
  /** The value read by the last skip(): its kind and span. Strings exclude the quotes; containers include brackets. */
  kind: JsonKind = JsonKind.None;
  start = 0;
  stop = 0;
  /** The key read by the last nextKey(), without quotes. */
  keyStart = 0;
  keyEnd = 0;
  /** A structural error was met: every walker returns false from now on. */
  bad = false;
  private depth = 0;
  /** Per walked level: no element read yet (so no comma expected). */
  private readonly first = new Uint8Array(MAX_DEPTH);
  private readonly stack = new Uint8Array(MAX_DEPTH);

  reset(text: string, start = 0, end = text.length): void {
    this.text = text;
    this.pos = start;
    this.end = end;
    this.bad = false;
    this.depth = 0;
    this.backslash = 0;
  }

  /**
   * The closing quote of the string whose opening quote is at i, or -1. Fast path: the next quote found by
   * indexOf, unless a backslash lies before it (then escapes are checked char by char; the position of the
   * next backslash is cached per message). Raw control characters inside strings are tolerated, the one
   * leniency against JSON.parse (they cannot change the structure, and Coinbase never sends them).
   */
  private closeQuote(i: number): number {
    const text = this.text;
    const q = text.indexOf('"', i + 1);
    if (q < 0 || q >= this.end) return -1;
    let b = this.backslash;
    if (b !== -1 && b <= i) {
      b = text.indexOf("\\", i + 1);
      this.backslash = b;
    }
    if (b === -1 || b > q) return q;
    return scanString(text, i, this.end);
  }
  /** Position of the next backslash at or after the last string scanned (-1: none in the text). */
  private backslash = 0;

  /** Skip whitespace; returns the char code at pos, or -1 at the end. */
  ws(): number {
    const text = this.text;
    const end = this.end;
    let i = this.pos;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) {
        this.pos = i;
        return c;
      }
      i++;
    }
    this.pos = i;
    return -1;
  }

  /** True if the text from pos to end is exactly one well-formed JSON value. Never throws. */
  validate(): boolean {
    const from = this.pos;
    const ok = this.skip() && this.ws() === -1;
    this.pos = from;
    return ok;
  }

  /** Read (and skip) one value at pos, setting kind/start/stop; false (and bad) if it is malformed. */
  skip(): boolean {
    if (this.bad) return false;
    if (this.readValue()) return true;
    this.bad = true;
    return false;
  }

  /** Enter the object or array at pos; false (and bad) if there is none. */
  enter(): boolean {
    const c = this.ws();
    if ((c !== 123 && c !== 91) || this.depth === MAX_DEPTH || this.bad) {
      this.bad = true;
      return false;
    }
    this.first[this.depth++] = 1;
    this.pos++;
    return true;
  }

  /** Next key of the object being walked, then pos is at its value; false at the end (or if malformed). */
  nextKey(): boolean {
    if (this.bad) return false;
    let c = this.ws();
    const level = this.depth - 1;
    if (c === 125 /* } */) {
      this.pos++;
      this.depth--;
      return false;
    }
    if (this.first[level] === 1) this.first[level] = 0;
    else if (c === 44 /* , */) {
      this.pos++;
      c = this.ws();
    } else return this.fail();
    if (c !== 34) return this.fail();
    const close = this.closeQuote(this.pos);
    if (close < 0) return this.fail();
    this.keyStart = this.pos + 1;
    this.keyEnd = close;
    this.pos = close + 1;
    if (this.ws() !== 58 /* : */) return this.fail();
    this.pos++;
    return true;
  }

  /** Next element of the array being walked, then pos is at it; false at the end (or if malformed). */
  nextItem(): boolean {
    if (this.bad) return false;
    const c = this.ws();
    const level = this.depth - 1;
    if (c === 93 /* ] */) {
      this.pos++;
      this.depth--;
      return false;
    }
    if (this.first[level] === 1) this.first[level] = 0;
    else if (c === 44 /* , */) this.pos++;
    else return this.fail();
    return this.ws() !== -1 || this.fail();
  }

  /** A key and its colon at i; returns the index after the colon, or -1. */
  private readKey(i: number): number {
    const text = this.text;
    const end = this.end;
    if (i >= end || text.charCodeAt(i) !== 34) return -1;
    const close = this.closeQuote(i);
    if (close < 0) return -1;
    i = skipWs(text, close + 1, end);
    if (i >= end || text.charCodeAt(i) !== 58 /* : */) return -1;
    return i + 1;
  }

  private fail(): false {
    this.bad = true;
    return false;
  }

  keyIs(literal: string): boolean {
    return this.keyEnd - this.keyStart === literal.length && spanEquals(this.text, this.keyStart, literal);
  }

  /** The last value read is the string `literal`. */
  stringIs(literal: string): boolean {
    return (
      this.kind === JsonKind.String &&
      this.stop - this.start === literal.length &&
      spanEquals(this.text, this.start, literal)
    );
  }

  private readValue(): boolean {
    const c = this.ws();
    const text = this.text;
    const end = this.end;
    const begin = this.pos;
    if (c === 123 /* { */ || c === 91 /* [ */) return this.readContainer();
    let after: number;
    if (c === 34) {
      const close = this.closeQuote(begin);
      if (close < 0) return false;
      this.kind = JsonKind.String;
      this.start = begin + 1;
      this.stop = close;
      this.pos = close + 1;
      return true;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      after = scanNumber(text, begin, end);
      this.kind = JsonKind.Number;
    } else if (c === 116 /* t */) {
      after = literalAt(text, begin, end, "true");
      this.kind = JsonKind.True;
    } else if (c === 102 /* f */) {
      after = literalAt(text, begin, end, "false");
      this.kind = JsonKind.False;
    } else if (c === 110 /* n */) {
      after = literalAt(text, begin, end, "null");
      this.kind = JsonKind.Null;
    } else return false;
    if (after < 0) return false;
    this.start = begin;
    this.stop = after;
    this.pos = after;
    return true;
  }

  /** Iterative (no recursion, so hostile nesting cannot overflow the stack), depth-bounded. */
  private readContainer(): boolean {
    const text = this.text;
    const end = this.end;
    const stack = this.stack;
    const begin = this.pos;
    let i = begin;
    let depth = 0;
    let expectValue = true;
    for (;;) {
      if (expectValue) {
        i = skipWs(text, i, end);
        if (i >= end) return false;
        const c = text.charCodeAt(i);
        if (c === 123 || c === 91) {
          if (depth === MAX_DEPTH) return false;
          stack[depth++] = c === 123 ? OBJ : ARR;
          i = skipWs(text, i + 1, end);
          if (i >= end) return false;
          const d = text.charCodeAt(i);
          if (d === (c === 123 ? 125 : 93)) {
            depth--;
            i++;
            expectValue = false;
          } else if (c === 123) {
            i = this.readKey(i);
            if (i < 0) return false;
          }
          continue;
        }
        if (c === 34) {
          i = this.closeQuote(i);
          if (i < 0) return false;
          i++;
        } else if (c === 45 || (c >= 48 && c <= 57)) {
          i = scanNumber(text, i, end);
        } else if (c === 116) i = literalAt(text, i, end, "true");
        else if (c === 102) i = literalAt(text, i, end, "false");
        else if (c === 110) i = literalAt(text, i, end, "null");
        else return false;
        if (i < 0) return false;
        expectValue = false;
      }
      if (depth === 0) break;
      i = skipWs(text, i, end);
      if (i >= end) return false;
      const c = text.charCodeAt(i);
      const top = stack[depth - 1];
      if (c === 44) {
        i++;
        expectValue = true;
        if (top === OBJ) {
          i = this.readKey(skipWs(text, i, end));
          if (i < 0) return false;
        }
      } else if ((c === 125 && top === OBJ) || (c === 93 && top === ARR)) {
        depth--;
        i++;
      } else return false;
    }
    this.kind = text.charCodeAt(begin) === 123 ? JsonKind.Object : JsonKind.Array;
    this.start = begin;
    this.stop = i;
    this.pos = i;
    return true;
  }
}
