// An INT64 column's bounds from a Parquet file's footer (https://parquet.apache.org/docs/file-format/metadata/),
// read here instead of through DuckDB's parquet_metadata(): that table function renders every column of every
// row group as text, ~5 ms for a day's 3 files on the 1-day request's critical path; the footer itself is a
// few KB of Thrift compact protocol (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md),
// decoded in ~0.1 ms. Only what the bounds need is read; every other field is skipped by its type.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** lo ≤ every non-NULL value ≤ hi, from the row groups' min_value/max_value. */
export interface ColumnBounds {
  lo: bigint;
  hi: bigint;
}

class FooterError extends Error {}

/** A Thrift compact protocol reader over one buffer; a read past its end throws FooterError. */
class Reader {
  at = 0;
  constructor(private readonly b: Uint8Array) {}
  byte(): number {
    const v = this.b[this.at++];
    if (v === undefined) throw new FooterError("footer ends early");
    return v;
  }
  /** Past a varint, whatever its size. */
  skipVarint(): void {
    for (let n = 0; this.byte() & 0x80; n++) if (n > 9) throw new FooterError("varint too long");
  }
  small(): number {
    // A varint that fits a number (lengths, sizes, enums).
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      if (shift > 42) throw new FooterError("length too long");
    }
  }
  zigzag(): number {
    const v = this.small();
    return v % 2 ? -(v + 1) / 2 : v / 2;
  }
  bytes(): Uint8Array {
    const n = this.small();
    if (this.at + n > this.b.length) throw new FooterError("footer ends early");
    const v = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  /** The fields of a struct: `each(id, type)` reads or skips each; the stop byte ends it. */
  struct(each: (id: number, type: number) => void): void {
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return;
      const type = h & 0x0f;
      const delta = h >> 4;
      const id = delta ? last + delta : this.zigzag();
      last = id;
      each(id, type);
    }
  }
  /** A list's element type and size. */
  list(): [number, number] {
    const h = this.byte();
    const size = h >> 4 === 15 ? this.small() : h >> 4;
    return [h & 0x0f, size];
  }
  skip(type: number): void {
    switch (type) {
      case 1:
      case 2:
        return; // booleans in the field header
      case 3:
        this.at++;
        return;
      case 4:
      case 5:
      case 6:
        this.skipVarint();
        return;
      case 7:
        this.at += 8;
        return;
      case 8:
        this.bytes();
        return;
      case 9:
      case 10: {
        const [t, n] = this.list();
        for (let i = 0; i < n; i++) this.element(t);
        return;
      }
      case 11: {
        const n = this.small();
        if (n === 0) return;
        const kv = this.byte();
        for (let i = 0; i < n; i++) {
          this.element(kv >> 4);
          this.element(kv & 0x0f);
        }
        return;
      }
      case 12:
        this.struct((_, t) => this.skip(t));
        return;
      default:
        throw new FooterError(`unknown Thrift type ${type}`);
    }
  }
  /** A list element of `type` (a boolean element is a byte, unlike a boolean field). */
  element(type: number): void {
    if (type === 1 || type === 2) this.at++;
    else this.skip(type);
  }
}

const T_STRUCT = 12;
const T_LIST = 9;
const T_BINARY = 8;
const INT32 = 1;
const INT64 = 2;
const UINT_8 = 11;
const UINT_16 = 12;
const UINT_32 = 13;
const UINT_64 = 14;

/** An integer column's bounds over every row group, and whether every row group says it holds no NULL. */
export interface ColumnStats extends ColumnBounds {
  /** Some row group has NULLs in the column, or does not say how many (no null_count). */
  nulls: boolean;
}

/**
 * Bounds of `column` (a top-level INT64 column) over every row group of `path`, or null where a row group has no
 * min_value/max_value for it (all NULL, or a writer that does not write them) or the column is not an INT64.
 * Signed or unsigned as the schema says (UINT_64).
 */
export function footerBounds(path: string, column: string): ColumnBounds | null {
  const s = footerStats(path, [column], [INT64]).get(column);
  return s ? { lo: s.lo, hi: s.hi } : null;
}

/**
 * footerBounds for several top-level integer columns (INT64, or INT32 with its INT_8/16/32 or UINT_8/16/32
 * converted type) in one read of the footer, with their null counts; a column without bounds is absent.
 */
export function footerStats(
  path: string,
  columns: readonly string[],
  physicals: readonly number[] = [INT32, INT64],
): Map<string, ColumnStats> {
  const fd = openSync(path, "r");
  let footer: Uint8Array;
  try {
    const size = fstatSync(fd).size;
    const tail = new Uint8Array(8);
    if (size < 12 || readSync(fd, tail, 0, 8, size - 8) !== 8) throw new FooterError(`${path}: not Parquet`);
    const len = new DataView(tail.buffer).getUint32(0, true);
    if (new TextDecoder().decode(tail.subarray(4)) !== "PAR1" || len > size - 12)
      throw new FooterError(`${path}: not Parquet`);
    footer = new Uint8Array(len);
    if (readSync(fd, footer, 0, len, size - 8 - len) !== len) throw new FooterError(`${path}: short read`);
  } finally {
    closeSync(fd);
  }
  const names = columns.map((c) => new TextEncoder().encode(c));
  const which = (b: Uint8Array) =>
    names.findIndex((name) => b.length === name.length && b.every((x, i) => x === name[i]));
  const r = new Reader(footer);
  // Per column: its physical type and signedness (null: not an integer column we read), and each row group's
  // [min_value, max_value, null_count] (null: absent).
  const types: ({ width: number; unsigned: boolean } | null)[] = columns.map(() => null);
  const stats: [Uint8Array | null, Uint8Array | null, number | null][][] = columns.map(() => []);
  const missing = columns.map(() => false);
  let groups = 0;
  r.struct((id, type) => {
    if (id === 2 && type === T_LIST) {
      // The schema: the columns' physical and converted types.
      const [, n] = r.list();
      for (let i = 0; i < n; i++) {
        let physical = -1;
        let converted = -1;
        let named = -1;
        r.struct((f, t) => {
          if (f === 1 && t === 5) physical = r.zigzag();
          else if (f === 4 && t === T_BINARY) named = which(r.bytes());
          else if (f === 6 && t === 5) converted = r.zigzag();
          else r.skip(t);
        });
        if (named < 0) continue;
        types[named] = !physicals.includes(physical)
          ? null
          : physical === INT64
            ? { width: 8, unsigned: converted === UINT_64 }
            : physical === INT32
              ? { width: 4, unsigned: converted === UINT_8 || converted === UINT_16 || converted === UINT_32 }
              : null;
      }
    } else if (id === 4 && type === T_LIST) {
      const [, n] = r.list();
      groups = n;
      for (let g = 0; g < n; g++) {
        const found = columns.map(() => false);
        r.struct((f, t) => {
          if (f !== 1 || t !== T_LIST) return r.skip(t);
          const [, chunks] = r.list();
          for (let c = 0; c < chunks; c++)
            r.struct((cf, ct) => {
              if (cf !== 3 || ct !== T_STRUCT) return r.skip(ct);
              let mine = -1;
              const entry: [Uint8Array | null, Uint8Array | null, number | null] = [null, null, null];
              r.struct((mf, mt) => {
                if (mf === 3 && mt === T_LIST) {
                  const [, parts] = r.list();
                  const path: Uint8Array[] = [];
                  for (let p = 0; p < parts; p++) path.push(r.bytes());
                  mine = path.length === 1 ? which(path[0] as Uint8Array) : -1;
                } else if (mf === 12 && mt === T_STRUCT)
                  r.struct((sf, st) => {
                    if (sf === 5 && st === T_BINARY) entry[1] = r.bytes();
                    else if (sf === 6 && st === T_BINARY) entry[0] = r.bytes();
                    else if (sf === 3 && st === 6) entry[2] = r.zigzag();
                    else r.skip(st);
                  });
                else r.skip(mt);
              });
              if (mine < 0) return;
              found[mine] = true;
              stats[mine]?.push(entry);
            });
        });
        found.forEach((ok, k) => {
          if (!ok) missing[k] = true;
        });
      }
    } else r.skip(type);
  });
  const out = new Map<string, ColumnStats>();
  columns.forEach((column, k) => {
    const t = types[k];
    const entries = stats[k] ?? [];
    if (!t || missing[k] || entries.length === 0 || entries.length !== groups) return;
    const value = (b: Uint8Array | null): bigint | null => {
      if (b?.length !== t.width) return null;
      const v = new DataView(b.buffer, b.byteOffset, t.width);
      if (t.width === 4) return BigInt(t.unsigned ? v.getUint32(0, true) : v.getInt32(0, true));
      return t.unsigned ? v.getBigUint64(0, true) : v.getBigInt64(0, true);
    };
    let lo: bigint | null = null;
    let hi: bigint | null = null;
    let nulls = false;
    for (const [min, max, nullCount] of entries) {
      const a = value(min);
      const b = value(max);
      if (a === null || b === null) return;
      if (lo === null || a < lo) lo = a;
      if (hi === null || b > hi) hi = b;
      if (nullCount !== 0) nulls = true;
    }
    if (lo !== null && hi !== null) out.set(column, { lo, hi, nulls });
  });
  return out;
}
