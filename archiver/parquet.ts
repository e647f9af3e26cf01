// A Parquet writer for the archive's columns (https://parquet.apache.org/docs/file-format/): the bulk export's
// decoded columns go straight to a file, without a DuckDB table, sort and COPY between. The types are what
// DuckDB's COPY wrote before, value for value and type for type: every column OPTIONAL (definition levels, RLE),
// INT64 with TIMESTAMP(UTC, µs), UINT_64 or INT_64, INT32 with INT_32 or INT_16, BYTE_ARRAY with UTF8. INT64
// and INT32 values are DELTA_BINARY_PACKED (the sorted times, ids and sequence numbers shrink to a few bits a
// value, a file's instrument ids and decimals to none), strings PLAIN; one zstd-compressed v1 data page per
// column chunk, ROW_GROUP_SIZE rows a row group, min/max and null counts in each column chunk's statistics
// (type-defined order: the API reads trade ids' bounds from them), the key-value metadata given. Nothing
// depends on time or threads: the same columns give the same bytes.
// The footer is Thrift's compact protocol (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md).

/** A column's values for `rows` rows: 64-bit as little-endian 32-bit word pairs; `valid[r]` 0 for NULL (null: none). */
export type ParquetColumn =
  | {
      name: string;
      kind: "int64";
      logical: "timestamp" | "int64" | "uint64";
      words: Int32Array;
      valid: Uint8Array | null;
    }
  | { name: string; kind: "int32"; logical: "int32" | "int16"; values: Int32Array; valid: Uint8Array | null }
  | {
      name: string;
      kind: "string";
      codes: Uint32Array;
      dictionary: readonly Uint8Array[];
      valid: Uint8Array | null;
    };

export const ROW_GROUP_SIZE = 122_880;
/** What the files say wrote them. */
export const CREATED_BY = "tapewire archiver (archiver/parquet.ts)";
const ZSTD_LEVEL = 3;
const MAGIC = new TextEncoder().encode("PAR1");
const enc = new TextEncoder();

// Thrift compact protocol field types.
const T_TRUE = 1;
const T_FALSE = 2;
const T_BYTE = 3;
const T_I32 = 5;
const T_I64 = 6;
const T_BINARY = 8;
const T_LIST = 9;
const T_STRUCT = 12;

/** Thrift compact protocol output. */
class Compact {
  private buf = new Uint8Array(4096);
  len = 0;
  private last: number[] = [];
  private lastId = 0;

  private byte(b: number): void {
    if (this.len === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = b;
  }
  private varint(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }
  private zigzag(n: number | bigint): void {
    const v = BigInt(n);
    this.varint(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
  }
  private header(id: number, type: number): void {
    const delta = id - this.lastId;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastId = id;
  }
  i32(id: number, v: number): this {
    this.header(id, T_I32);
    this.zigzag(v);
    return this;
  }
  i64(id: number, v: number | bigint): this {
    this.header(id, T_I64);
    this.zigzag(v);
    return this;
  }
  i8(id: number, v: number): this {
    this.header(id, T_BYTE);
    this.byte(v & 0xff);
    return this;
  }
  bool(id: number, v: boolean): this {
    this.header(id, v ? T_TRUE : T_FALSE);
    return this;
  }
  binary(id: number, v: Uint8Array | string): this {
    const bytes = typeof v === "string" ? enc.encode(v) : v;
    this.header(id, T_BINARY);
    this.varint(BigInt(bytes.length));
    for (const b of bytes) this.byte(b);
    return this;
  }
  begin(id: number): this {
    this.header(id, T_STRUCT);
    this.last.push(this.lastId);
    this.lastId = 0;
    return this;
  }
  end(): this {
    this.byte(0);
    this.lastId = this.last.pop() ?? 0;
    return this;
  }
  /** A list of structs, each written by `each` between its begin and end. */
  structs<T>(id: number, items: readonly T[], each: (item: T) => void): this {
    this.listHeader(id, items.length, T_STRUCT);
    for (const item of items) {
      this.last.push(this.lastId);
      this.lastId = 0;
      each(item);
      this.end();
    }
    return this;
  }
  i32s(id: number, items: readonly number[]): this {
    this.listHeader(id, items.length, T_I32);
    for (const v of items) this.zigzag(v);
    return this;
  }
  strings(id: number, items: readonly string[]): this {
    this.listHeader(id, items.length, T_BINARY);
    for (const s of items) {
      const bytes = enc.encode(s);
      this.varint(BigInt(bytes.length));
      for (const b of bytes) this.byte(b);
    }
    return this;
  }
  private listHeader(id: number, size: number, type: number): void {
    this.header(id, T_LIST);
    if (size < 15) this.byte((size << 4) | type);
    else {
      this.byte(0xf0 | type);
      this.varint(BigInt(size));
    }
  }
  /** Close the outermost struct and return the bytes. */
  done(): Uint8Array {
    this.byte(0);
    return this.buf.slice(0, this.len);
  }
}

// parquet.thrift enums.
const TYPE = { int32: 1, int64: 2, string: 6 } as const;
const CONVERTED = { string: 0, timestamp: 10, uint64: 14, int16: 16, int32: 17, int64: 18 } as const;
const OPTIONAL = 1;
const REQUIRED = 0;
const PLAIN = 0;
const RLE = 3;
const DELTA_BINARY_PACKED = 5;
const ZSTD = 6;
const DATA_PAGE = 0;

const logicalOf = (c: ParquetColumn) => (c.kind === "string" ? "string" : c.logical);

function logicalType(w: Compact, c: ParquetColumn): void {
  const l = logicalOf(c);
  w.begin(10);
  if (l === "string") w.begin(1).end();
  else if (l === "timestamp") w.begin(8).bool(1, true).begin(2).begin(2).end().end().end();
  else {
    const [bits, signed] =
      l === "int16" ? [16, true] : l === "int32" ? [32, true] : l === "int64" ? [64, true] : [64, false];
    w.begin(10).i8(1, bits).bool(2, signed).end();
  }
  w.end();
}

interface Chunk {
  offset: number;
  compressed: number;
  uncompressed: number;
  values: number;
  encoding: number;
  nulls: number;
  min: Uint8Array | null;
  max: Uint8Array | null;
}

/** Definition levels of rows [from, to) as RLE runs (bit width 1), with their 4-byte length in front. */
function defLevels(valid: Uint8Array | null, from: number, to: number): Uint8Array {
  const out: number[] = [0, 0, 0, 0];
  const run = (n: number, v: number) => {
    let x = n << 1;
    while (x >= 0x80) {
      out.push((x & 0x7f) | 0x80);
      x >>>= 7;
    }
    out.push(x, v);
  };
  if (!valid) run(to - from, 1);
  else {
    let r = from;
    while (r < to) {
      const v = valid[r] ? 1 : 0;
      let e = r + 1;
      while (e < to && (valid[e] ? 1 : 0) === v) e++;
      run(e - r, v);
      r = e;
    }
  }
  const n = out.length - 4;
  out[0] = n & 0xff;
  out[1] = (n >>> 8) & 0xff;
  out[2] = (n >>> 16) & 0xff;
  out[3] = n >>> 24;
  return Uint8Array.from(out);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return (a[k] as number) - (b[k] as number);
  return a.length - b.length;
}

/** The page's bytes (levels + values), its encoding and the chunk's statistics for rows [from, to). */
function pageOf(
  c: ParquetColumn,
  from: number,
  to: number,
): { data: Uint8Array; encoding: number; nulls: number; min: Uint8Array | null; max: Uint8Array | null } {
  const levels = defLevels(c.valid, from, to);
  const valid = c.valid;
  let nulls = 0;
  if (valid) for (let r = from; r < to; r++) if (!valid[r]) nulls++;
  const n = to - from - nulls;
  if (c.kind === "string") {
    // Bytes and bounds from the distinct codes used (few), then the values byte by byte.
    const codes = c.codes;
    const used = new Uint32Array(c.dictionary.length);
    for (let r = from; r < to; r++)
      if (!valid || valid[r]) {
        const code = codes[r] as number;
        used[code] = (used[code] as number) + 1;
      }
    let bytes = 0;
    let lo = -1;
    let hi = -1;
    used.forEach((count, code) => {
      if (count === 0) return;
      const v = c.dictionary[code] as Uint8Array;
      bytes += count * (4 + v.length);
      if (lo < 0 || compareBytes(v, c.dictionary[lo] as Uint8Array) < 0) lo = code;
      if (hi < 0 || compareBytes(v, c.dictionary[hi] as Uint8Array) > 0) hi = code;
    });
    const data = new Uint8Array(levels.length + bytes);
    data.set(levels);
    let o = levels.length;
    for (let r = from; r < to; r++) {
      if (valid && !valid[r]) continue;
      const v = c.dictionary[codes[r] as number] as Uint8Array;
      const len = v.length;
      data[o] = len & 0xff;
      data[o + 1] = (len >>> 8) & 0xff;
      data[o + 2] = (len >>> 16) & 0xff;
      data[o + 3] = len >>> 24;
      for (let j = 0; j < len; j++) data[o + 4 + j] = v[j] as number;
      o += 4 + len;
    }
    return {
      data,
      encoding: PLAIN,
      nulls,
      min: lo < 0 ? null : (c.dictionary[lo] as Uint8Array),
      max: hi < 0 ? null : (c.dictionary[hi] as Uint8Array),
    };
  }
  const width = c.kind === "int64" ? 2 : 1;
  const src = c.kind === "int64" ? c.words : c.values;
  // The values: one copy without NULLs, else word by word; then the bounds over the non-NULL rows.
  let words: Int32Array;
  if (!valid || nulls === 0) words = src.subarray(width * from, width * to);
  else {
    words = new Int32Array(width * n);
    let k = 0;
    for (let r = from; r < to; r++) {
      if (!valid[r]) continue;
      words[k++] = src[width * r] as number;
      if (width === 2) words[k++] = src[2 * r + 1] as number;
    }
  }
  let minR = -1;
  let maxR = -1;
  if (n > 0) {
    minR = 0;
    maxR = 0;
    if (width === 2) {
      // Compare the high words (signed, or unsigned for UINT_64: flipping the sign bit maps one order on the
      // other), then the low words unsigned.
      const flip = c.kind === "int64" && c.logical === "uint64" ? 0x80000000 : 0;
      let minH = (words[1] as number) ^ flip;
      let minL = (words[0] as number) >>> 0;
      let maxH = minH;
      let maxL = minL;
      for (let i = 1; i < n; i++) {
        const h = (words[2 * i + 1] as number) ^ flip;
        const l = (words[2 * i] as number) >>> 0;
        if (h < minH || (h === minH && l < minL)) {
          minH = h;
          minL = l;
          minR = i;
        }
        if (h > maxH || (h === maxH && l > maxL)) {
          maxH = h;
          maxL = l;
          maxR = i;
        }
      }
    } else {
      let min = words[0] as number;
      let max = min;
      for (let i = 1; i < n; i++) {
        const v = words[i] as number;
        if (v < min) {
          min = v;
          minR = i;
        }
        if (v > max) {
          max = v;
          maxR = i;
        }
      }
    }
  }
  const stat = (i: number) =>
    i < 0 ? null : new Uint8Array(words.buffer, words.byteOffset + 4 * width * i, 4 * width).slice();
  if (n > 0) {
    // INT64 (times, ids, sequence numbers, mantissas) as deltas: sorted columns shrink to a few bits a value, so
    // a reader decompresses and decodes far fewer bytes (a day's scan). INT32 likewise (instrument ids and
    // decimals, constant over a file's runs: no bits at all).
    const packed = width === 2 ? deltaBinaryPackedView(words, n) : deltaBinaryPacked32View(words, n);
    const out = new Uint8Array(levels.length + packed.length);
    out.set(levels);
    out.set(packed, levels.length);
    return { data: out, encoding: DELTA_BINARY_PACKED, nulls, min: stat(minR), max: stat(maxR) };
  }
  const data = new Uint8Array(levels.length + 4 * width * n);
  data.set(levels);
  data.set(new Uint8Array(words.buffer, words.byteOffset, 4 * width * n), levels.length);
  return { data, encoding: PLAIN, nulls, min: stat(minR), max: stat(maxR) };
}

// DELTA_BINARY_PACKED (https://parquet.apache.org/docs/file-format/data-pages/encodings/): blocks of 128 deltas,
// 4 miniblocks of 32 each, every delta minus its block's smallest, bit-packed at the miniblock's width. 64-bit
// arithmetic wraps (two's complement), here on 32-bit word pairs without BigInts.
const DBP_BLOCK = 128;
const DBP_MINIBLOCKS = 4;
const DBP_MINI = DBP_BLOCK / DBP_MINIBLOCKS;

/** ULEB128 of a 64-bit (hi, lo) pattern, unsigned. */
function uleb64(out: number[], hi: number, lo: number): void {
  let h = hi >>> 0;
  let l = lo >>> 0;
  for (;;) {
    const b = l & 0x7f;
    l = ((l >>> 7) | ((h & 0x7f) << 25)) >>> 0;
    h >>>= 7;
    if (h === 0 && l === 0) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** Zigzag then ULEB128 of a signed 64-bit (hi, lo). */
function zigzag64(out: number[], hi: number, lo: number): void {
  const sign = hi >> 31;
  uleb64(out, ((hi << 1) | (lo >>> 31)) ^ sign, (lo << 1) ^ sign);
}

/** DELTA_BINARY_PACKED's header: block size, miniblocks a block, value count, the first value (hi, lo). */
function dbpHeader(n: number, firstHi: number, firstLo: number): number[] {
  const head: number[] = [];
  uleb64(head, 0, DBP_BLOCK);
  uleb64(head, 0, DBP_MINIBLOCKS);
  uleb64(head, 0, n);
  zigzag64(head, firstHi, firstLo);
  return head;
}

/** One miniblock of values up to 32 bits wide (`values[from..to)`, zeros past `to`): 32 values fill exactly
 * `width` 32-bit words, LSB first, each written little-endian once full. Returns the position after them. */
function packMiniblock32(
  values: Uint32Array,
  from: number,
  to: number,
  width: number,
  out: Uint8Array,
  at: number,
): number {
  let pos = at;
  let acc = 0;
  let bits = 0;
  for (let i = from; i < from + DBP_MINI && width > 0; i++) {
    const x = i < to ? (values[i] as number) : 0;
    acc |= x << bits;
    const room = 32 - bits;
    if (width >= room) {
      out[pos] = acc & 0xff;
      out[pos + 1] = (acc >>> 8) & 0xff;
      out[pos + 2] = (acc >>> 16) & 0xff;
      out[pos + 3] = acc >>> 24;
      pos += 4;
      acc = room === 32 ? 0 : x >>> room;
      bits = width - room;
    } else bits += width;
  }
  return pos;
}

/**
 * The packers' output buffer, reused (grown as needed): a packed page is copied out of it at once (pageOf), so
 * the worst-case room each needs is no fresh allocation the kernel has to fault in.
 */
let packScratch = new Uint8Array(1 << 16);
function packRoom(bytes: number): Uint8Array {
  if (packScratch.length < bytes) packScratch = new Uint8Array(Math.max(bytes, 2 * packScratch.length));
  return packScratch;
}

/** The `n` int64 values of `words` (little-endian word pairs) as DELTA_BINARY_PACKED. */
export const deltaBinaryPacked = (words: Int32Array, n: number): Uint8Array =>
  deltaBinaryPackedView(words, n).slice();

/** deltaBinaryPacked's bytes as a view of packScratch: valid until the next packing. */
function deltaBinaryPackedView(words: Int32Array, n: number): Uint8Array {
  const head = dbpHeader(n, n > 0 ? (words[1] as number) : 0, n > 0 ? (words[0] as number) : 0);
  const deltas = Math.max(0, n - 1);
  const blocks = Math.ceil(deltas / DBP_BLOCK);
  // At most: per block a 10-byte min delta, 4 widths and 128 values of 64 bits.
  const out = packRoom(head.length + blocks * (10 + DBP_MINIBLOCKS + 8 * DBP_BLOCK));
  out.set(head);
  let pos = head.length;
  const dHi = new Int32Array(DBP_BLOCK);
  const dLo = new Uint32Array(DBP_BLOCK);
  const minBytes: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const first = b * DBP_BLOCK + 1;
    const count = Math.min(DBP_BLOCK, n - first);
    let minH = 0;
    let minL = 0;
    for (let i = 0; i < count; i++) {
      const at = 2 * (first + i);
      const lo = (words[at] as number) >>> 0;
      const prevLo = (words[at - 2] as number) >>> 0;
      const h = ((words[at + 1] as number) - (words[at - 1] as number) - (lo < prevLo ? 1 : 0)) | 0;
      const l = (lo - prevLo) >>> 0;
      dHi[i] = h;
      dLo[i] = l;
      if (i === 0 || h < minH || (h === minH && l < minL)) {
        minH = h;
        minL = l;
      }
    }
    minBytes.length = 0;
    zigzag64(minBytes, minH, minL);
    for (const x of minBytes) out[pos++] = x;
    // Each delta minus the minimum (an unsigned 64-bit value), in place; the miniblocks' widths.
    const widthsAt = pos;
    pos += DBP_MINIBLOCKS;
    for (let m = 0; m < DBP_MINIBLOCKS; m++) {
      const from = m * DBP_MINI;
      if (from >= count) {
        out[widthsAt + m] = 0;
        continue;
      }
      const to = Math.min(count, from + DBP_MINI);
      let orH = 0;
      let orL = 0;
      for (let i = from; i < to; i++) {
        const l = dLo[i] as number;
        const h = ((dHi[i] as number) - minH - (l < minL ? 1 : 0)) >>> 0;
        const u = (l - minL) >>> 0;
        dHi[i] = h;
        dLo[i] = u;
        orH |= h;
        orL |= u;
      }
      const width = orH !== 0 ? 64 - Math.clz32(orH) : 32 - Math.clz32(orL);
      out[widthsAt + m] = width;
      if (orH === 0) {
        // Up to 32 bits a value (the common case).
        pos = packMiniblock32(dLo, from, to, width, out, pos);
        continue;
      }
      // 32 values LSB first (the last miniblock padded with zeros).
      let acc = 0;
      let bits = 0;
      for (let i = from; i < from + DBP_MINI; i++) {
        let lo = i < to ? (dLo[i] as number) : 0;
        let hi = i < to ? (dHi[i] as number) : 0;
        let left = width;
        while (left > 0) {
          const take = Math.min(left, 16);
          const part = take === 16 ? lo & 0xffff : lo & ((1 << take) - 1);
          acc = (acc | (part << bits)) >>> 0;
          bits += take;
          left -= take;
          lo = (lo >>> take) | (take === 16 ? (hi & 0xffff) << 16 : (hi & ((1 << take) - 1)) << (32 - take));
          hi >>>= take;
          while (bits >= 8) {
            out[pos++] = acc & 0xff;
            acc >>>= 8;
            bits -= 8;
          }
        }
      }
    }
  }
  return out.subarray(0, pos);
}

/**
 * The `n` int32 values of `values` as DELTA_BINARY_PACKED, the deltas in 32-bit arithmetic that wraps (as
 * parquet-mr writes INT32: every width at most 32 bits; a reader's sums wrap back to the same values).
 */
export const deltaBinaryPacked32 = (values: Int32Array, n: number): Uint8Array =>
  deltaBinaryPacked32View(values, n).slice();

/** deltaBinaryPacked32's bytes as a view of packScratch: valid until the next packing. */
function deltaBinaryPacked32View(values: Int32Array, n: number): Uint8Array {
  const first = n > 0 ? (values[0] as number) : 0;
  const head = dbpHeader(n, first >> 31, first);
  const deltas = Math.max(0, n - 1);
  const blocks = Math.ceil(deltas / DBP_BLOCK);
  // At most: per block a 5-byte min delta, 4 widths and 128 values of 32 bits.
  const out = packRoom(head.length + blocks * (5 + DBP_MINIBLOCKS + 4 * DBP_BLOCK));
  out.set(head);
  let pos = head.length;
  const d = new Int32Array(DBP_BLOCK);
  const u = new Uint32Array(DBP_BLOCK);
  const minBytes: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const from0 = b * DBP_BLOCK + 1;
    const count = Math.min(DBP_BLOCK, n - from0);
    let min = 0;
    for (let i = 0; i < count; i++) {
      const x = ((values[from0 + i] as number) - (values[from0 + i - 1] as number)) | 0;
      d[i] = x;
      if (i === 0 || x < min) min = x;
    }
    minBytes.length = 0;
    zigzag64(minBytes, min >> 31, min);
    for (const x of minBytes) out[pos++] = x;
    const widthsAt = pos;
    pos += DBP_MINIBLOCKS;
    for (let m = 0; m < DBP_MINIBLOCKS; m++) {
      const from = m * DBP_MINI;
      if (from >= count) {
        out[widthsAt + m] = 0;
        continue;
      }
      const to = Math.min(count, from + DBP_MINI);
      let or = 0;
      for (let i = from; i < to; i++) {
        const x = ((d[i] as number) - min) >>> 0;
        u[i] = x;
        or |= x;
      }
      const width = 32 - Math.clz32(or);
      out[widthsAt + m] = width;
      pos = packMiniblock32(u, from, to, width, out, pos);
    }
  }
  return out.subarray(0, pos);
}

function pageHeader(uncompressed: number, compressed: number, values: number, encoding: number): Uint8Array {
  const w = new Compact();
  w.i32(1, DATA_PAGE).i32(2, uncompressed).i32(3, compressed);
  w.begin(5).i32(1, values).i32(2, encoding).i32(3, RLE).i32(4, RLE).end();
  return w.done();
}

/**
 * The bytes of a Parquet file holding `rows` rows of `columns` (in this order), with `metadata` as its
 * key-value metadata. Pages are compressed off the JavaScript thread (Bun.zstdCompress).
 */
export async function encodeParquet(
  columns: readonly ParquetColumn[],
  rows: number,
  metadata: Record<string, string>,
  createdBy: string,
  rowGroupSize = ROW_GROUP_SIZE,
): Promise<Uint8Array> {
  const groups: { from: number; to: number }[] = [];
  for (let from = 0; from < rows; from += rowGroupSize)
    groups.push({ from, to: Math.min(rows, from + rowGroupSize) });
  const pages = groups.map((g) => columns.map((c) => pageOf(c, g.from, g.to)));
  const compressed = await Promise.all(
    pages.flat().map((p) => Bun.zstdCompress(p.data, { level: ZSTD_LEVEL })),
  );
  const parts: Uint8Array[] = [MAGIC];
  let offset = MAGIC.length;
  const chunks: Chunk[][] = [];
  let k = 0;
  groups.forEach((g, gi) => {
    const row: Chunk[] = [];
    (pages[gi] ?? []).forEach((p) => {
      const body = compressed[k++] as Uint8Array;
      const header = pageHeader(p.data.length, body.length, g.to - g.from, p.encoding);
      row.push({
        offset,
        compressed: header.length + body.length,
        uncompressed: header.length + p.data.length,
        values: g.to - g.from,
        encoding: p.encoding,
        nulls: p.nulls,
        min: p.min,
        max: p.max,
      });
      parts.push(header, body);
      offset += header.length + body.length;
    });
    chunks.push(row);
  });

  const w = new Compact();
  w.i32(1, 1);
  w.structs(2, [null, ...columns], (c) => {
    if (c === null) {
      w.i32(3, REQUIRED).binary(4, "duckdb_schema").i32(5, columns.length);
      return;
    }
    w.i32(1, TYPE[c.kind]).i32(3, OPTIONAL).binary(4, c.name).i32(6, CONVERTED[logicalOf(c)]);
    logicalType(w, c);
  });
  w.i64(3, rows);
  w.structs(4, chunks, (row) => {
    const total = row.reduce((n, ch) => n + ch.uncompressed, 0);
    w.structs(
      1,
      row.map((ch, ci) => ({ ch, c: columns[ci] as ParquetColumn })),
      ({ ch, c }) => {
        w.i64(2, ch.offset);
        w.begin(3);
        w.i32(1, TYPE[c.kind]).i32s(2, [ch.encoding, RLE]).strings(3, [c.name]).i32(4, ZSTD);
        w.i64(5, ch.values).i64(6, ch.uncompressed).i64(7, ch.compressed).i64(9, ch.offset);
        w.begin(12).i64(3, ch.nulls);
        if (ch.max) w.binary(5, ch.max);
        if (ch.min) w.binary(6, ch.min);
        w.end();
        w.end();
      },
    );
    w.i64(2, total).i64(3, row[0]?.values ?? 0);
    w.i64(5, row[0]?.offset ?? 0).i64(
      6,
      row.reduce((n, ch) => n + ch.compressed, 0),
    );
  });
  w.structs(5, Object.entries(metadata), ([key, value]) => {
    w.binary(1, key).binary(2, value);
  });
  w.binary(6, createdBy);
  w.structs(7, columns, () => {
    w.begin(1).end();
  });
  const footer = w.done();
  const len = new Uint8Array(4);
  new DataView(len.buffer).setInt32(0, footer.length, true);
  parts.push(footer, len, MAGIC);
  const out = new Uint8Array(offset + footer.length + 8);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
