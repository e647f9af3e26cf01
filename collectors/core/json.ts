// The one JSON scanner every venue parser walks: a zero-allocation cursor over the raw message text. Prices
// and sizes are read as [start, stop) spans that schema/decimal.ts and schema/clock.ts parse in place, so the
// exchange's own digits never pass through JSON.parse's doubles (Kraken's `0.10000000` keeps its zeros for
// the checksum). The walk is strict (RFC 8259 grammar; raw control characters inside strings are the one
// leniency): any structural error sets `bad` and ends every loop, so one pass both reads and validates.
// Depth is bounded and nothing recurses, so hostile input can neither throw nor overflow the stack.
//
//   s.reset(text); s.openObject();
//   while (s.nextKey()) { s.skip(); if (s.keyIs("price") && s.kind === JsonKind.Number) ... }
//   if (s.bad || !s.atEnd()) → malformed

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

/** Deeper nesting is rejected as malformed (exchange messages are at most 5 levels deep). */
export const MAX_DEPTH = 64;

const OBJ = 1;
const ARR = 2;

export class JsonScanner {
  text = "";
  pos = 0;
  end = 0;
  /** The value read by the last skip(): kind and span. Strings exclude the quotes; containers include brackets. */
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
  /** Position of the next backslash at or after the last string scanned (-1: none in the text). */
  private backslash = 0;
  private backslashFrom = 0;

  /** Walk text[start, end) from its beginning. */
  reset(text: string, start = 0, end = text.length): void {
    this.text = text;
    this.pos = start;
    this.end = end;
    this.bad = false;
    this.depth = 0;
    this.backslash = 0;
    this.backslashFrom = 0;
  }

  /**
   * Continue inside an object whose first member was already read by hand (a parser that matched a known
   * message prefix natively): the next nextKey() expects a comma or the closing brace.
   */
  resumeObject(pos: number): void {
    this.depth = 1;
    this.first[0] = 0;
    this.pos = pos;
  }

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

  /** Only whitespace is left before the end. */
  atEnd(): boolean {
    return this.ws() === -1;
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
    if ((c !== 123 && c !== 91) || this.depth === MAX_DEPTH || this.bad) return this.fail();
    this.first[this.depth++] = 1;
    this.pos++;
    return true;
  }

  /** Enter the object at pos; false (and bad) if the value there is anything else. */
  openObject(): boolean {
    return this.open(123);
  }

  /** Enter the array at pos; false (and bad) if the value there is anything else. */
  openArray(): boolean {
    return this.open(91);
  }

  private open(bracket: number): boolean {
    if (this.bad || this.ws() !== bracket || this.depth === MAX_DEPTH) return this.fail();
    this.first[this.depth++] = 1;
    this.pos++;
    return true;
  }

  /** Next key of the object being walked, then pos is at its value; false at the end (or if malformed). */
  nextKey(): boolean {
    if (this.bad) return false;
    let c = this.ws();
    const level = this.depth - 1;
    if (c === 125 /* } */ && level >= 0) {
      this.pos++;
      this.depth--;
      return false;
    }
    if (level < 0) return this.fail();
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

  /** Next key of the object being walked and its value read (kind/start/stop); false at the end or if malformed. */
  nextMember(): boolean {
    return this.nextKey() && this.skip();
  }

  /** Next element of the array being walked, then pos is at it; false at the end (or if malformed). */
  nextItem(): boolean {
    if (this.bad) return false;
    const c = this.ws();
    const level = this.depth - 1;
    if (level < 0) return this.fail();
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

  fail(): false {
    this.bad = true;
    return false;
  }

  keyIs(literal: string): boolean {
    return this.keyEnd - this.keyStart === literal.length && spanEquals(this.text, this.keyStart, literal);
  }

  /** The key is one character (Binance payload fields): its char code, else -1. */
  get keyChar(): number {
    return this.keyEnd - this.keyStart === 1 ? this.text.charCodeAt(this.keyStart) : -1;
  }

  /** The last value read is the string `literal`. */
  stringIs(literal: string): boolean {
    return this.kind === JsonKind.String && this.valueIs(literal);
  }

  /** The span of the last value read equals `literal` (any kind). */
  valueIs(literal: string): boolean {
    return this.stop - this.start === literal.length && spanEquals(this.text, this.start, literal);
  }

  /**
   * The closing quote of the string whose opening quote is at i, or -1. Fast path: the next quote found by
   * indexOf, unless a backslash lies before it (then escapes are checked char by char; the position of the
   * next backslash is cached per message).
   */
  private closeQuote(i: number): number {
    const text = this.text;
    const q = text.indexOf('"', i + 1);
    if (q < 0 || q >= this.end) return -1;
    let b = this.backslash;
    // The cache holds for walks that move forward; a walk stepping back (a side re-read) looks again.
    if ((b !== -1 && b <= i) || i < this.backslashFrom) {
      b = text.indexOf("\\", i + 1);
      this.backslash = b;
      this.backslashFrom = i;
    }
    if (b === -1 || b > q) return q;
    return scanString(text, i, this.end);
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
        } else if (c === 45 || (c >= 48 && c <= 57)) i = scanNumber(text, i, end);
        else if (c === 116) i = literalAt(text, i, end, "true");
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

export function skipWs(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i++;
  }
  return i;
}

/** The index of the closing quote of the string starting at i, or -1 if it is not a valid JSON string. */
function scanString(text: string, i: number, end: number): number {
  for (let j = i + 1; j < end; j++) {
    const c = text.charCodeAt(j);
    if (c === 34) return j;
    if (c < 32) return -1;
    if (c === 92 /* \ */) {
      j++;
      if (j >= end) return -1;
      const e = text.charCodeAt(j);
      if (e === 117 /* u */) {
        if (j + 4 >= end) return -1;
        for (let k = 1; k <= 4; k++) if (!isHex(text.charCodeAt(j + k))) return -1;
        j += 4;
      } else if (
        e !== 34 &&
        e !== 92 &&
        e !== 47 &&
        e !== 98 &&
        e !== 102 &&
        e !== 110 &&
        e !== 114 &&
        e !== 116
      )
        return -1;
    }
  }
  return -1;
}

const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isDigit = (c: number) => c >= 48 && c <= 57;

/** Strict JSON number grammar; returns the index after it, or -1. */
function scanNumber(text: string, i: number, end: number): number {
  if (text.charCodeAt(i) === 45) i++;
  if (i >= end) return -1;
  let c = text.charCodeAt(i);
  if (c === 48) i++;
  else if (c >= 49 && c <= 57) {
    while (i < end && isDigit(text.charCodeAt(i))) i++;
  } else return -1;
  if (i < end && text.charCodeAt(i) === 46) {
    i++;
    const from = i;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    if (i === from) return -1;
  }
  if (i < end) {
    c = text.charCodeAt(i);
    if (c === 101 || c === 69) {
      i++;
      if (i < end && (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45)) i++;
      const from = i;
      while (i < end && isDigit(text.charCodeAt(i))) i++;
      if (i === from) return -1;
    }
  }
  return i;
}

function literalAt(text: string, i: number, end: number, literal: string): number {
  if (i + literal.length > end || !spanEquals(text, i, literal)) return -1;
  return i + literal.length;
}

/** text[start, start + literal.length) equals literal, without slicing. */
export function spanEquals(text: string, start: number, literal: string): boolean {
  for (let k = 0; k < literal.length; k++)
    if (text.charCodeAt(start + k) !== literal.charCodeAt(k)) return false;
  return true;
}

/** text[start, end) equals literal exactly. */
export const rangeIs = (text: string, start: number, end: number, literal: string): boolean =>
  end - start === literal.length && spanEquals(text, start, literal);

/**
 * A non-negative integer written as plain digits in text[start, stop) (trade ids, update ids, epoch times),
 * or -1 if the span is empty, holds anything but digits, or exceeds 2^53 - 1. Allocates nothing.
 */
export function parseDigits(text: string, start: number, stop: number): number {
  if (stop <= start) return -1;
  let value = 0;
  for (let i = start; i < stop; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value <= Number.MAX_SAFE_INTEGER ? value : -1;
}
