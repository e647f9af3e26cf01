// From a bulk-export batch to its Parquet files (parquet.ts), without DuckDB: the batch's rows as columns in the
// dataset's order (from the binary COPY's decoded columns, or read out of DuckDB for a CSV batch), split into
// its partitions and each partition's rows sorted by (orderBy), a unique key of the table (bulk-paths.test.ts):
// a total order, so the same rows give the same file whatever order Postgres sent them in.
import type { DuckDBConnection } from "@duckdb/node-api";
import type { ArchiveColumn, ArchiveDataset } from "../schema/archive.ts";
import type { BufferPool } from "./buffer-pool.ts";
import type { BinaryColumn, CollectedColumn } from "./copy-duck.ts";
import { CREATED_BY, encodeParquet, type ParquetColumn } from "./parquet.ts";

export interface InstrumentInfo {
  symbol: string;
  priceDecimals: number;
  sizeDecimals: number;
}

/** A batch: its columns (the dataset's, in order) over `rows` rows, and each row's partition key (bulk.ts `p`). */
export interface BatchColumns {
  rows: number;
  columns: ParquetColumn[];
  keys: Float64Array;
  /** The pooled buffers under its arrays, for the pool once the batch's files are encoded. */
  buffers?: ArrayBuffer[];
}

const enc = new TextEncoder();
const TWO32 = 4294967296;

function emptyColumn(
  c: ArchiveColumn,
  n: number,
  valid: Uint8Array | null,
  take: (bytes: number) => ArrayBuffer = (bytes) => new ArrayBuffer(bytes),
): ParquetColumn {
  switch (c.type) {
    case "TIMESTAMPTZ":
    case "BIGINT":
    case "UBIGINT":
      return {
        name: c.name,
        kind: "int64",
        logical: c.type === "TIMESTAMPTZ" ? "timestamp" : c.type === "UBIGINT" ? "uint64" : "int64",
        words: new Int32Array(take(8 * n), 0, 2 * n),
        valid,
      };
    case "INTEGER":
    case "SMALLINT":
      return {
        name: c.name,
        kind: "int32",
        logical: c.type === "INTEGER" ? "int32" : "int16",
        values: new Int32Array(take(4 * n), 0, n),
        valid,
      };
    case "VARCHAR":
      return {
        name: c.name,
        kind: "string",
        codes: new Uint32Array(take(4 * n), 0, n),
        dictionary: [],
        valid,
      };
  }
}

/** The batch of a binary COPY (copyIntoColumns): `binary` its columns, `exchange` and `time` among them. */
export function batchFromCopy(
  d: ArchiveDataset,
  binary: readonly BinaryColumn[],
  collected: readonly CollectedColumn[],
  dictionary: readonly string[],
  rows: number,
  instruments: ReadonlyMap<number, InstrumentInfo>,
  intervalS: number,
  /** Where its own arrays come from (not zeroed: each is written whole); the COPY's buffers are from it too. */
  pool?: BufferPool,
): BatchColumns {
  const buffers = pool ? collected.map((c) => c.bytes.buffer as ArrayBuffer) : [];
  const take = (bytes: number) => {
    const b = pool ? pool.take(bytes) : new ArrayBuffer(bytes);
    if (pool) buffers.push(b);
    return b;
  };
  const at = (name: string) => {
    const k = binary.findIndex((b) => b.name === name);
    if (k < 0) throw new Error(`the COPY has no column ${name}`);
    return collected[k] as CollectedColumn;
  };
  const dictBytes = dictionary.map((s) => enc.encode(s));
  const inst = at("instrument_id");
  const instIds = new Int32Array(inst.bytes.buffer, 0, rows);
  const columns = d.columns.map((c): ParquetColumn => {
    if ("instrument" in c.from) {
      const which = c.from.instrument;
      const col = emptyColumn(c, rows, null, take);
      if (col.kind === "string") {
        // Code k: the k-th distinct symbol, in order of first appearance (the file's bytes do not depend on codes).
        // Looked up once a run of one instrument (NaN for a NULL one: never equal, looked up each time).
        const codes = new Map<string, number>();
        const dict: Uint8Array[] = [];
        let lastId = Number.NaN;
        let lastCode = 0;
        for (let r = 0; r < rows; r++) {
          const id = inst.valid && !inst.valid[r] ? Number.NaN : (instIds[r] as number);
          if (id !== lastId) {
            lastId = id;
            const s = (Number.isNaN(id) ? undefined : instruments.get(id))?.symbol ?? "";
            let code = codes.get(s);
            if (code === undefined) {
              code = dict.push(enc.encode(s)) - 1;
              codes.set(s, code);
            }
            lastCode = code;
          }
          col.codes[r] = lastCode;
        }
        return { ...col, dictionary: dict };
      }
      if (col.kind !== "int32") throw new Error(`${c.name}: an instrument attribute of type ${c.type}`);
      let lastId = Number.NaN;
      let last = 0;
      for (let r = 0; r < rows; r++) {
        const id = inst.valid && !inst.valid[r] ? Number.NaN : (instIds[r] as number);
        if (id !== lastId) {
          lastId = id;
          const i = Number.isNaN(id) ? undefined : instruments.get(id);
          last = i ? (which === "price_decimals" ? i.priceDecimals : i.sizeDecimals) : 0;
        }
        col.values[r] = last;
      }
      return col;
    }
    // Views of the COPY's buffers, but SMALLINTs widened to INT32 (the column's shape from a 0-row one).
    const src = at(c.from.column);
    const col = emptyColumn(c, 0, src.valid);
    if (col.kind === "int64") return { ...col, words: new Int32Array(src.bytes.buffer, 0, 2 * rows) };
    if (col.kind === "string")
      return { ...col, codes: new Uint32Array(src.bytes.buffer, 0, rows), dictionary: dictBytes };
    if (col.logical === "int32") return { ...col, values: new Int32Array(src.bytes.buffer, 0, rows) };
    const i16 = new Int16Array(src.bytes.buffer, 0, rows);
    const values = new Int32Array(take(4 * rows), 0, rows);
    for (let r = 0; r < rows; r++) values[r] = i16[r] as number;
    return { ...col, values };
  });
  const exchange = new Int16Array(at("exchange").bytes.buffer, 0, rows);
  const time = new Int32Array(at("time").bytes.buffer, 0, 2 * rows);
  const keys = new Float64Array(take(8 * rows), 0, rows);
  const us = intervalS * 1_000_000;
  for (let r = 0; r < rows; r++) {
    const t = (time[2 * r + 1] as number) * TWO32 + ((time[2 * r] as number) >>> 0);
    keys[r] = (exchange[r] as number) * 10_000_000_000 + Math.floor(t / us) * intervalS;
  }
  return { rows, columns, keys, buffers };
}

interface RawVector {
  items?: unknown;
  validity?: { data?: unknown; offset?: unknown } | null;
}

/** Grows a column's arrays to hold `n` rows (ParquetColumn arrays are replaced, the first `r` rows kept). */
function grow(c: ParquetColumn, r: number, n: number): ParquetColumn {
  const valid = c.valid ? new Uint8Array(n) : null;
  if (valid && c.valid) valid.set(c.valid.subarray(0, r));
  if (c.kind === "int64") {
    const words = new Int32Array(2 * n);
    words.set(c.words.subarray(0, 2 * r));
    return { ...c, words, valid };
  }
  if (c.kind === "int32") {
    const values = new Int32Array(n);
    values.set(c.values.subarray(0, r));
    return { ...c, values, valid };
  }
  const codes = new Uint32Array(n);
  codes.set(c.codes.subarray(0, r));
  return { ...c, codes, valid };
}

/**
 * The rows of a DuckDB query over the dataset's columns (in order; with `key`, a BIGINT partition key `p` first),
 * read out chunk by chunk in the query's order: integers straight from the vectors, text through getItem.
 */
export async function batchFromDuck(
  duck: DuckDBConnection,
  query: string,
  d: ArchiveDataset,
  key: boolean,
): Promise<BatchColumns> {
  const select = d.columns.map((c) => (c.type === "TIMESTAMPTZ" ? `epoch_us(${c.name})` : c.name)).join(", ");
  const result = await duck.run(`SELECT ${key ? "p, " : ""}${select} FROM (${query})`);
  let columns = d.columns.map((c) => emptyColumn(c, 0, null));
  const dicts = d.columns.map(() => ({
    codes: new Map<string, number>(),
    inline: new Map<number, Map<number, number>>(),
    bytes: [] as Uint8Array[],
  }));
  let keys = new Float64Array(0);
  let rows = 0;
  const base = key ? 1 : 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    if (rows + n > keys.length) {
      const cap = Math.max(2 * keys.length, rows + n, 4096);
      const k2 = new Float64Array(cap);
      k2.set(keys.subarray(0, rows));
      keys = k2;
      columns = columns.map((c) => grow(c, rows, cap));
    }
    if (key) {
      const v = chunk.getColumnVector(0);
      for (let r = 0; r < n; r++) keys[rows + r] = Number(v.getItem(r));
    }
    columns = columns.map((c, k) => {
      const vector = chunk.getColumnVector(k + base);
      const raw = vector as unknown as RawVector;
      const mask = raw.validity?.data;
      const bits =
        raw.validity?.offset === 0 && mask instanceof BigUint64Array
          ? new Uint8Array(mask.buffer, mask.byteOffset, mask.byteLength)
          : null;
      const maskKnown =
        raw.validity === null || raw.validity === undefined || raw.validity.data == null || bits !== null;
      const fast = maskKnown && ArrayBuffer.isView(raw.items);
      let col = c;
      const isNull = (r: number) =>
        maskKnown
          ? bits
            ? !(((bits[r >> 3] as number) >> (r & 7)) & 1)
            : false
          : vector.getItem(r) === null;
      for (let r = 0; r < n; r++)
        if (isNull(r)) {
          if (!col.valid) {
            const valid = new Uint8Array(keys.length);
            valid.fill(1, 0, rows + r);
            col = { ...col, valid };
          }
          (col.valid as Uint8Array)[rows + r] = 0;
        } else if (col.valid) col.valid[rows + r] = 1;
      const items = raw.items as ArrayBufferView;
      if (col.kind === "int64") {
        if (fast && (items instanceof BigInt64Array || items instanceof BigUint64Array))
          col.words.set(new Int32Array(items.buffer, items.byteOffset, 2 * n), 2 * rows);
        else {
          const b = new BigInt64Array(col.words.buffer);
          for (let r = 0; r < n; r++) {
            const v = vector.getItem(r);
            if (v !== null) b[rows + r] = BigInt.asIntN(64, BigInt(v as bigint));
          }
        }
      } else if (col.kind === "int32") {
        if (fast && (items instanceof Int32Array || items instanceof Int16Array))
          for (let r = 0; r < n; r++) col.values[rows + r] = items[r] as number;
        else
          for (let r = 0; r < n; r++) {
            const v = vector.getItem(r);
            col.values[rows + r] = v === null ? 0 : Number(v);
          }
      } else {
        const dict = dicts[k] as (typeof dicts)[number];
        // DuckDB's strings are 16 bytes each: the length, then up to 12 bytes inline (longer ones point
        // elsewhere: getItem). Inline ones are keyed by their bytes, with no string made per row.
        const view = (vector as unknown as { dataView?: unknown }).dataView;
        const dv = view instanceof DataView && view.byteLength >= 16 * n ? view : null;
        for (let r = 0; r < n; r++) {
          if (dv && !(col.valid && !col.valid[rows + r])) {
            const o = 16 * r;
            const len = dv.getUint32(o, true);
            if (len <= 12) {
              let a = len;
              let b = 0;
              for (let j = 0; j < len; j++) {
                const byte = dv.getUint8(o + 4 + j);
                if (j < 6) a = a * 256 + byte;
                else b = b * 256 + byte;
              }
              let inner = dict.inline.get(a);
              if (!inner) {
                inner = new Map();
                dict.inline.set(a, inner);
              }
              let code = inner.get(b);
              if (code === undefined) {
                const bytes = new Uint8Array(dv.buffer, dv.byteOffset + o + 4, len).slice();
                const s = new TextDecoder().decode(bytes);
                code = dict.codes.get(s);
                if (code === undefined) {
                  code = dict.bytes.push(bytes) - 1;
                  dict.codes.set(s, code);
                }
                inner.set(b, code);
              }
              col.codes[rows + r] = code;
              continue;
            }
          }
          const v = vector.getItem(r);
          if (v === null) continue;
          const s = String(v);
          let code = dict.codes.get(s);
          if (code === undefined) {
            code = dict.bytes.push(enc.encode(s)) - 1;
            dict.codes.set(s, code);
          }
          col.codes[rows + r] = code;
        }
        col = { ...col, dictionary: dict.bytes };
      }
      return col;
    });
    rows += n;
  }
  return { rows, columns, keys };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return (a[k] as number) - (b[k] as number);
  return a.length - b.length;
}

/** Rows a, b of a column in ascending order, NULLs last (DuckDB's default). */
function comparator(c: ParquetColumn): (a: number, b: number) => number {
  const valid = c.valid;
  let f: (a: number, b: number) => number;
  if (c.kind === "int64") {
    const w = c.words;
    const unsigned = c.logical === "uint64";
    f = (a, b) => {
      const ha = w[2 * a + 1] as number;
      const hb = w[2 * b + 1] as number;
      if (ha !== hb) return unsigned ? (ha >>> 0) - (hb >>> 0) : ha - hb;
      return ((w[2 * a] as number) >>> 0) - ((w[2 * b] as number) >>> 0);
    };
  } else if (c.kind === "int32") {
    const v = c.values;
    f = (a, b) => (v[a] as number) - (v[b] as number);
  } else {
    // Codes ranked by their bytes (DuckDB orders VARCHAR by bytes).
    const order = c.dictionary
      .map((_, k) => k)
      .sort((x, y) => compareBytes(c.dictionary[x] as Uint8Array, c.dictionary[y] as Uint8Array));
    const rank = new Uint32Array(c.dictionary.length);
    order.forEach((code, k) => {
      rank[code] = k;
    });
    const codes = c.codes;
    f = (a, b) => (rank[codes[a] as number] as number) - (rank[codes[b] as number] as number);
  }
  if (!valid) return f;
  return (a, b) => (valid[a] ? (valid[b] ? f(a, b) : -1) : valid[b] ? 1 : 0);
}

/**
 * Where fileBytes gathers a file's rows, one buffer per column position, grown as needed and reused file after
 * file: fresh arrays for every file made the kernel fault in and zero new pages at each (~60 bytes a row).
 * Safe because encodeParquet reads the columns' values only before its first await (pageOf copies them into
 * each page), so a gathered file is done with before the next one is gathered.
 */
const gatherScratch: ArrayBuffer[] = [];
function scratchFor(k: number, bytes: number): ArrayBuffer {
  let b = gatherScratch[k];
  if (!b || b.byteLength < bytes) {
    b = new ArrayBuffer(Math.max(bytes, 2 * (b?.byteLength ?? 0), 1 << 16));
    gatherScratch[k] = b;
  }
  return b;
}

/** The Parquet bytes of one file's rows (`idx`: those rows of the batch, in this order; null: all of them). */
export const fileBytes = (batch: BatchColumns, idx: Int32Array | null, metadata: Record<string, string>) =>
  encodeParquet(
    idx ? batch.columns.map((c, k) => gather(c, idx, scratchFor(k, 8 * idx.length))) : batch.columns,
    idx ? idx.length : batch.rows,
    metadata,
    CREATED_BY,
  );

/** Each wanted partition's rows (by key), sorted by the dataset's orderBy. */
export function partitionRows(
  d: ArchiveDataset,
  batch: BatchColumns,
  wanted: ReadonlySet<number>,
): Map<number, Int32Array> {
  // Rows by partition, in arrival order (runs of one key are common: one lookup a run).
  const lists = new Map<number, number[]>();
  let lastKey = Number.NaN;
  let last: number[] | null = null;
  for (let r = 0; r < batch.rows; r++) {
    const k = batch.keys[r] as number;
    if (k !== lastKey) {
      lastKey = k;
      last = wanted.has(k) ? (lists.get(k) ?? null) : null;
      if (!last && wanted.has(k)) {
        last = [];
        lists.set(k, last);
      }
    }
    last?.push(r);
  }
  const byName = new Map(d.columns.map((c, k) => [c.name, batch.columns[k] as ParquetColumn]));
  const cmps = d.orderBy.split(",").map((s) => {
    const c = byName.get(s.trim().replace(/^t\./, ""));
    if (!c) throw new Error(`${d.name}: orderBy column ${s} is not exported`);
    return comparator(c);
  });
  const cmp = (a: number, b: number) => {
    for (const f of cmps) {
      const x = f(a, b);
      if (x !== 0) return x;
    }
    return 0;
  };
  const out = new Map<number, Int32Array>();
  // The first sort column (the instrument) is a few values: rows bucketed by it in arrival order, buckets in
  // its order; Postgres sends the rows in time order mostly, so the check below then rarely has to sort.
  const first = byName.get((d.orderBy.split(",")[0] ?? "").trim().replace(/^t\./, ""));
  const firstInts = first?.kind === "int32" && !first.valid ? first.values : null;
  for (const [k, l] of lists) {
    let idx: Int32Array;
    if (firstInts) {
      const buckets = new Map<number, number[]>();
      for (const r of l) {
        const v = firstInts[r] as number;
        let b = buckets.get(v);
        if (!b) {
          b = [];
          buckets.set(v, b);
        }
        b.push(r);
      }
      idx = new Int32Array(l.length);
      let o = 0;
      for (const v of [...buckets.keys()].sort((x, y) => x - y))
        for (const r of buckets.get(v) as number[]) idx[o++] = r;
    } else idx = Int32Array.from(l);
    let sorted = true;
    for (let i = 1; i < idx.length && sorted; i++)
      if (cmp(idx[i - 1] as number, idx[i] as number) > 0) sorted = false;
    if (!sorted) idx.sort(cmp);
    out.set(k, idx);
  }
  return out;
}

/** The rows `idx` of a column, in that order (the values in `into` when given: at least 8 bytes a row). */
export function gather(c: ParquetColumn, idx: Int32Array, into?: ArrayBuffer): ParquetColumn {
  const n = idx.length;
  let valid: Uint8Array | null = null;
  if (c.valid) {
    const v = c.valid;
    valid = new Uint8Array(n);
    let nulls = 0;
    for (let i = 0; i < n; i++) {
      const ok = v[idx[i] as number] as number;
      valid[i] = ok;
      if (!ok) nulls++;
    }
    if (nulls === 0) valid = null;
  }
  if (c.kind === "int64") {
    const w = c.words;
    const out = into ? new Int32Array(into, 0, 2 * n) : new Int32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const r = idx[i] as number;
      out[2 * i] = w[2 * r] as number;
      out[2 * i + 1] = w[2 * r + 1] as number;
    }
    return { ...c, words: out, valid };
  }
  if (c.kind === "int32") {
    const v = c.values;
    const out = into ? new Int32Array(into, 0, n) : new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = v[idx[i] as number] as number;
    return { ...c, values: out, valid };
  }
  const codes = c.codes;
  const out = into ? new Uint32Array(into, 0, n) : new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = codes[idx[i] as number] as number;
  return { ...c, codes: out, valid };
}
