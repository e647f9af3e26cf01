// JSON token grammar over a span of raw text, for the scanner in json.ts: strings, numbers, literals,
// whitespace, and the allocation-free span helpers the channel parsers use (equality, digit strings).

export function skipWs(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i++;
  }
  return i;
}

/** The index of the closing quote of the string starting at i, or -1 if it is not a valid JSON string. */
export function scanString(text: string, i: number, end: number): number {
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

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Strict JSON number grammar; returns the index after it, or -1. */
export function scanNumber(text: string, i: number, end: number): number {
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

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function literalAt(text: string, i: number, end: number, literal: string): number {
  if (i + literal.length > end || !spanEquals(text, i, literal)) return -1;
  return i + literal.length;
}

export function spanEquals(text: string, start: number, literal: string): boolean {
  for (let k = 0; k < literal.length; k++)
    if (text.charCodeAt(start + k) !== literal.charCodeAt(k)) return false;
  return true;
}

/**
 * A non-negative integer written as plain digits in text[start, stop) ("846149798", "000000000"), or -1 if
 * the span is empty, holds anything but digits, or exceeds 2^53 - 1. Allocates nothing.
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
