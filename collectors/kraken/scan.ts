// A JSON cursor over one raw exchange message: walks objects and arrays in place and reports the text span
// of each value, so prices and sizes are read from the exchange's own digits (parseFixed on the span) and
// never pass through JSON.parse's doubles. Kraken v2 sends them as JSON numbers: `0.10000000` must keep its
// zeros for the book checksum, and 0.1 + 0.2 style drift must never reach a frame.
// Docs: https://docs.kraken.com/api/docs/websocket-v2/book (numbers "containing full precision").
// One instance is reused for every message: nothing here allocates.

export const Value = { Bad: 0, String: 1, Number: 2, Object: 3, Array: 4, Literal: 5 } as const;
export type Value = (typeof Value)[keyof typeof Value];

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;

export class JsonScanner {
  text = "";
  pos = 0;
  end = 0;
  /** Set once anything is out of shape; every walker stops and the caller counts the message. */
  failed = false;
  keyStart = 0;
  keyEnd = 0;
  /** The span of the last value read: string contents without the quotes, or the raw token. */
  valStart = 0;
  valEnd = 0;

  reset(text: string): void {
    this.text = text;
    this.pos = 0;
    this.end = text.length;
    this.failed = false;
  }

  fail(): false {
    this.failed = true;
    return false;
  }

  private ws(): number {
    const t = this.text;
    let i = this.pos;
    while (i < this.end) {
      const c = t.charCodeAt(i);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
      i++;
    }
    this.pos = i;
    return i < this.end ? t.charCodeAt(i) : -1;
  }

  /** Expect `{` and step inside. */
  openObject(): boolean {
    if (this.failed || this.ws() !== LBRACE) return this.fail();
    this.pos++;
    return true;
  }

  /** Expect `[` and step inside. */
  openArray(): boolean {
    if (this.failed || this.ws() !== LBRACKET) return this.fail();
    this.pos++;
    return true;
  }

  /**
   * Step to the next key of the object we are in and past its colon. False at the closing brace (consumed)
   * or on malformed input (`failed` set). The caller must read or skip the value before calling again.
   */
  nextKey(): boolean {
    if (this.failed) return false;
    let c = this.ws();
    if (c === COMMA) {
      this.pos++;
      c = this.ws();
    }
    if (c === RBRACE) {
      this.pos++;
      return false;
    }
    if (c !== QUOTE) return this.fail();
    const close = this.stringEnd(this.pos + 1);
    if (close < 0) return this.fail();
    this.keyStart = this.pos + 1;
    this.keyEnd = close;
    this.pos = close + 1;
    if (this.ws() !== COLON) return this.fail();
    this.pos++;
    this.ws();
    return true;
  }

  /** Step to the next element of the array we are in. False at the closing bracket (consumed) or on error. */
  nextElement(): boolean {
    if (this.failed) return false;
    let c = this.ws();
    if (c === COMMA) {
      this.pos++;
      c = this.ws();
    }
    if (c === RBRACKET) {
      this.pos++;
      return false;
    }
    if (c < 0) return this.fail();
    return true;
  }

  /** The current key equals `name` (compared in place). */
  keyIs(name: string): boolean {
    return this.keyEnd - this.keyStart === name.length && this.text.startsWith(name, this.keyStart);
  }

  /** The last value read equals `name`. */
  valueIs(name: string): boolean {
    return this.valEnd - this.valStart === name.length && this.text.startsWith(name, this.valStart);
  }

  /** Read the value at the cursor, recording its span. Objects and arrays are skipped whole. */
  readValue(): Value {
    if (this.failed) return Value.Bad;
    const t = this.text;
    const c = this.ws();
    const start = this.pos;
    if (c === QUOTE) {
      const close = this.stringEnd(start + 1);
      if (close < 0) return this.bad();
      this.valStart = start + 1;
      this.valEnd = close;
      this.pos = close + 1;
      return Value.String;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      let i = start + 1;
      while (i < this.end) {
        const d = t.charCodeAt(i);
        // digits . e E + -: parseFixed judges the exact form
        if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) i++;
        else break;
      }
      this.valStart = start;
      this.valEnd = i;
      this.pos = i;
      return Value.Number;
    }
    if (c === LBRACE || c === LBRACKET) {
      const close = this.containerEnd(start);
      if (close < 0) return this.bad();
      this.valStart = start;
      this.valEnd = close + 1;
      this.pos = close + 1;
      return c === LBRACE ? Value.Object : Value.Array;
    }
    if (c === 116 /* t */ || c === 102 /* f */ || c === 110 /* n */) {
      let i = start + 1;
      while (i < this.end && t.charCodeAt(i) >= 97 && t.charCodeAt(i) <= 122) i++;
      this.valStart = start;
      this.valEnd = i;
      this.pos = i;
      const n = i - start;
      if (
        (n === 4 && (t.startsWith("true", start) || t.startsWith("null", start))) ||
        (n === 5 && t.startsWith("false", start))
      ) {
        return Value.Literal;
      }
    }
    return this.bad();
  }

  private bad(): Value {
    this.failed = true;
    return Value.Bad;
  }

  /**
   * Index of the quote closing a string whose contents start at `from`, or -1. indexOf does the scanning
   * natively (several times faster than a charCodeAt loop); a quote preceded by an odd run of backslashes is
   * escaped and the search goes on. Other escapes stay in the span as written (resolve.ts decodes the rare escaped symbol).
   */
  private stringEnd(from: number): number {
    const t = this.text;
    let at = from;
    for (;;) {
      const q = t.indexOf('"', at);
      if (q < 0 || q >= this.end) return -1;
      let b = q - 1;
      while (b >= from && t.charCodeAt(b) === BACKSLASH) b--;
      if ((q - 1 - b) % 2 === 0) return q;
      at = q + 1;
    }
  }

  /** Index of the bracket closing the object/array opening at `from`, or -1 (strings are honoured). */
  private containerEnd(from: number): number {
    const t = this.text;
    let depth = 0;
    for (let i = from; i < this.end; i++) {
      const c = t.charCodeAt(i);
      if (c === QUOTE) {
        i = this.stringEnd(i + 1);
        if (i < 0) return -1;
      } else if (c === LBRACE || c === LBRACKET) depth++;
      else if (c === RBRACE || c === RBRACKET) {
        depth--;
        if (depth === 0) return i;
      }
    }
    return -1;
  }

  /** After the top-level value: only whitespace may follow. */
  atEnd(): boolean {
    return this.ws() === -1;
  }
}
