// parquet.ts's files as DuckDB, pyarrow and polars read them: exact values (64-bit extremes, unsigned past 2^63,
// NULLs, UTF-8), the archive's types, row groups, footer statistics in type order, key-value metadata, and the
// same bytes for the same columns.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { encodeParquet, type ParquetColumn } from "./parquet.ts";

const dir = mkdtempSync(join(tmpdir(), "tw-parquet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PYTHON = join(import.meta.dir, "..", "notebooks", ".venv", "bin", "python");

/** Runs `body` in the notebooks' Python with `t` (pyarrow) and `p` (polars) read from `file`; its printed JSON. */
function pythonReads(file: string, body: string): { arrow: unknown; polars: unknown; [k: string]: unknown } {
  const script = `import json, sys, pyarrow.parquet as pq, polars as pl\nt = pq.read_table(sys.argv[1])\np = pl.read_parquet(sys.argv[1])\n${body}`;
  const proc = Bun.spawnSync([PYTHON, "-c", script, file]);
  expect(proc.stderr.toString()).toBe("");
  return JSON.parse(proc.stdout.toString());
}

const N = 1000;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const words = (f: (i: number) => bigint) => {
  const a = new BigInt64Array(N);
  for (let i = 0; i < N; i++) a[i] = BigInt.asIntN(64, f(i));
  return new Int32Array(a.buffer);
};
const valid = Uint8Array.from({ length: N }, (_, i) => (i % 7 === 3 ? 0 : 1));
const enc = new TextEncoder();
const symbols = ["BTC-USD", "ETH-EUR", "ünïcødé €", ""];
const expected = (i: number) => ({
  time: 1_764_547_200_000_000n + BigInt(i) * 1_000_001n,
  instrument_id: i % 2 === 0 ? -2_147_483_648 + i : 2_147_483_647 - i,
  symbol: i % 7 === 3 ? null : (symbols[i % 4] as string),
  trade_id: 2n ** 64n - 1n - BigInt(i) * 3n,
  price_mantissa:
    i % 7 === 3 ? null : i === 12 ? I64_MIN : i === 13 ? I64_MAX : BigInt(i - 500) * 123_456_789_012n,
  price_decimals: i % 7 === 3 ? null : (i % 19) - 9,
});
const columns: ParquetColumn[] = [
  { name: "time", kind: "int64", logical: "timestamp", words: words((i) => expected(i).time), valid: null },
  {
    name: "instrument_id",
    kind: "int32",
    logical: "int32",
    values: Int32Array.from({ length: N }, (_, i) => expected(i).instrument_id),
    valid: null,
  },
  {
    name: "symbol",
    kind: "string",
    codes: Uint32Array.from({ length: N }, (_, i) => i % 4),
    dictionary: symbols.map((s) => enc.encode(s)),
    valid,
  },
  {
    name: "trade_id",
    kind: "int64",
    logical: "uint64",
    words: words((i) => expected(i).trade_id),
    valid: null,
  },
  {
    name: "price_mantissa",
    kind: "int64",
    logical: "int64",
    words: words((i) => expected(i).price_mantissa ?? 99n),
    valid,
  },
  {
    name: "price_decimals",
    kind: "int32",
    logical: "int16",
    values: Int32Array.from({ length: N }, (_, i) => (i % 19) - 9),
    valid,
  },
];
const metadata = { tapewire_archive_format: "1", tapewire_instruments: '[{"symbol":"ünï"}]' };

async function write(name: string): Promise<string> {
  const file = join(dir, name);
  writeFileSync(file, await encodeParquet(columns, N, metadata, "test", 300));
  return file;
}

test("DuckDB reads the exact values, types, row groups, statistics and metadata", async () => {
  const file = await write("a.parquet");
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const duck = await instance.connect();
  try {
    await duck.run("SET TimeZone = 'UTC'");
    const rows = (
      await duck.runAndReadAll(
        `SELECT epoch_us(time), instrument_id, symbol, trade_id, price_mantissa, price_decimals FROM '${file}'`,
      )
    ).getRows();
    expect(rows.length).toBe(N);
    rows.forEach((r, i) => {
      const e = expected(i);
      expect(r).toEqual([e.time, e.instrument_id, e.symbol, e.trade_id, e.price_mantissa, e.price_decimals]);
    });
    const types = (await duck.runAndReadAll(`DESCRIBE SELECT * FROM '${file}'`)).getRows().map((r) => r[1]);
    expect(types).toEqual([
      "TIMESTAMP WITH TIME ZONE",
      "INTEGER",
      "VARCHAR",
      "UBIGINT",
      "BIGINT",
      "SMALLINT",
    ]);
    const stats = (
      await duck.runAndReadAll(
        `SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count, compression FROM parquet_metadata('${file}') ORDER BY 1, column_id`,
      )
    ).getRows();
    expect(new Set(stats.map((s) => s[0])).size).toBe(4); // 1,000 rows at 300 a row group
    const of = (g: number, col: string) => stats.find((s) => s[0] === BigInt(g) && s[1] === col);
    // Row group 0: rows 0–299. Unsigned order for trade_id, signed for the mantissa (which holds both extremes).
    expect(of(0, "trade_id")?.slice(2, 4)).toEqual([
      String(2n ** 64n - 1n - 299n * 3n),
      String(2n ** 64n - 1n),
    ]);
    expect(of(0, "price_mantissa")?.slice(2, 5)).toEqual([String(I64_MIN), String(I64_MAX), BigInt(43)]);
    expect(of(0, "symbol")?.slice(2, 4)).toEqual(["", "ünïcødé €"]);
    expect(of(3, "instrument_id")?.slice(2, 4)).toEqual([
      String(-2_147_483_648 + 900),
      String(2_147_483_647 - 901),
    ]);
    expect(new Set(stats.map((s) => s[5]))).toEqual(new Set(["ZSTD"]));
    const kv = (
      await duck.runAndReadAll(
        `SELECT decode(key), decode(value) FROM parquet_kv_metadata('${file}') ORDER BY 1`,
      )
    ).getRows();
    expect(Object.fromEntries(kv)).toEqual(metadata);
  } finally {
    duck.closeSync();
    instance.closeSync();
  }
});

test("the same columns give the same bytes", async () => {
  const a = await encodeParquet(columns, N, metadata, "test", 300);
  const b = await encodeParquet(columns, N, metadata, "test", 300);
  expect(Buffer.compare(a, b)).toBe(0);
});

test.skipIf(!existsSync(PYTHON))(
  "pyarrow and polars read the exact values and types",
  async () => {
    const file = await write("b.parquet");
    const got = pythonReads(
      file,
      `
def rows(cols):
    return [[str(v) if isinstance(v, int) else v for v in r] for r in zip(*cols)]
a = rows([t.column('time').cast('int64').to_pylist()] + [t.column(c).to_pylist() for c in t.column_names[1:]])
b = rows([p['time'].dt.epoch('us').to_list()] + [p[c].to_list() for c in p.columns[1:]])
print(json.dumps({"arrow": a, "polars": b, "types": [str(f.type) for f in t.schema], "ptypes": [str(d) for d in p.dtypes], "meta": {k.decode(): v.decode() for k, v in t.schema.metadata.items()}}))
`,
    );
    const want = Array.from({ length: N }, (_, i) =>
      Object.values(expected(i)).map((v) => (typeof v === "bigint" || typeof v === "number" ? String(v) : v)),
    );
    expect(got.arrow).toEqual(want);
    expect(got.polars).toEqual(want);
    expect(got.types).toEqual(["timestamp[us, tz=UTC]", "int32", "string", "uint64", "int64", "int16"]);
    expect(got.ptypes).toEqual([
      "Datetime(time_unit='us', time_zone='UTC')",
      "Int32",
      "String",
      "UInt64",
      "Int64",
      "Int16",
    ]);
    expect(got.meta).toEqual(metadata);
  },
  30_000,
);

test("INT64 columns are DELTA_BINARY_PACKED: deltas of every width, wrapping, partial blocks, 1 value, NULLs", async () => {
  // 1,000 rows at 129 a row group: 128 deltas (one whole block) per group, 96 in the last; `jumpy` has deltas of
  // every width up to 64 bits (and wraps), `sparse` one value a group (no deltas), `gappy` NULLs in between.
  const M = 1000;
  let seed = 0x2545f491n;
  const rand = () => {
    seed = (seed * 6364136223846793005n + 1442695040888963407n) & (2n ** 64n - 1n);
    return seed;
  };
  const jumpy = Array.from({ length: M }, (_, i) =>
    BigInt.asIntN(64, rand() & ((1n << BigInt(i % 65)) - 1n)),
  );
  let at = -(2n ** 62n);
  const sorted = Array.from({ length: M }, (_, i) => (at += BigInt(i % 5) * 1_000_003n));
  const sparseValid = Uint8Array.from({ length: M }, (_, i) => (i % 129 === 5 ? 1 : 0));
  const gappyValid = Uint8Array.from({ length: M }, (_, i) => (i % 3 === 0 || i > 900 ? 0 : 1));
  const w = (xs: bigint[]) => new Int32Array(BigInt64Array.from(xs, (x) => BigInt.asIntN(64, x)).buffer);
  const cols: ParquetColumn[] = [
    { name: "jumpy", kind: "int64", logical: "int64", words: w(jumpy), valid: null },
    { name: "sorted", kind: "int64", logical: "timestamp", words: w(sorted), valid: null },
    { name: "sparse", kind: "int64", logical: "uint64", words: w(jumpy), valid: sparseValid },
    { name: "gappy", kind: "int64", logical: "int64", words: w(jumpy), valid: gappyValid },
  ];
  const file = join(dir, "delta.parquet");
  writeFileSync(file, await encodeParquet(cols, M, {}, "test", 129));
  const want = jumpy.map((j, i) => [
    String(j),
    String(sorted[i]),
    sparseValid[i] ? String(BigInt.asUintN(64, j)) : null,
    gappyValid[i] ? String(j) : null,
  ]);
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const duck = await instance.connect();
  try {
    const rows = (
      await duck.runAndReadAll(
        `SELECT jumpy::VARCHAR, epoch_us(sorted)::VARCHAR, sparse::VARCHAR, gappy::VARCHAR FROM '${file}'`,
      )
    ).getRows();
    expect(rows).toEqual(want);
    const encodings = (
      await duck.runAndReadAll(
        `SELECT encodings, count(*)::INTEGER FROM parquet_metadata('${file}') GROUP BY 1 ORDER BY 1`,
      )
    ).getRows();
    // 8 row groups × 4 columns; gappy's last group (rows 903–999) is all NULL: no values, PLAIN.
    expect(encodings).toEqual([
      ["DELTA_BINARY_PACKED, RLE", 31],
      ["PLAIN, RLE", 1],
    ]);
  } finally {
    duck.closeSync();
    instance.closeSync();
  }
  if (!existsSync(PYTHON)) return;
  const got = pythonReads(
    file,
    `
s = lambda v: None if v is None else str(v)
a = [[s(v) for v in r] for r in zip(t.column('jumpy').to_pylist(), t.column('sorted').cast('int64').to_pylist(), t.column('sparse').to_pylist(), t.column('gappy').to_pylist())]
b = [[s(v) for v in r] for r in zip(p['jumpy'].to_list(), p['sorted'].dt.epoch('us').to_list(), p['sparse'].to_list(), p['gappy'].to_list())]
print(json.dumps({"arrow": a, "polars": b}))
`,
  );
  expect(got.arrow).toEqual(want);
  expect(got.polars).toEqual(want);
}, 30_000);

test("INT32 columns are DELTA_BINARY_PACKED too: 32-bit wrapping deltas of every width, constant runs, NULLs", async () => {
  // 1,000 rows at 129 a row group. `jumpy` has deltas of every width up to 32 bits and jumps between the
  // extremes (the 32-bit deltas wrap), `runs` is a file's instrument ids (constant runs: width 0), `small` an
  // INT_16 with NULLs; DuckDB, pyarrow and polars must all read the exact values.
  const M = 1000;
  let seed = 0x9e3779b9;
  const rand = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) | 0;
    return seed >>> 0;
  };
  const jumpy = Int32Array.from({ length: M }, (_, i) =>
    i % 97 === 0 ? -2_147_483_648 : i % 89 === 0 ? 2_147_483_647 : (rand() & (2 ** (i % 33) - 1)) | 0,
  );
  const runs = Int32Array.from({ length: M }, (_, i) => 1 + Math.floor(i / 300));
  const small = Int32Array.from({ length: M }, (_, i) => ((i * 7919) % 65536) - 32768);
  const smallValid = Uint8Array.from({ length: M }, (_, i) => (i % 5 === 2 ? 0 : 1));
  const cols: ParquetColumn[] = [
    { name: "jumpy", kind: "int32", logical: "int32", values: jumpy, valid: null },
    { name: "runs", kind: "int32", logical: "int32", values: runs, valid: null },
    { name: "small", kind: "int32", logical: "int16", values: small, valid: smallValid },
  ];
  const file = join(dir, "delta32.parquet");
  writeFileSync(file, await encodeParquet(cols, M, {}, "test", 129));
  const want = Array.from({ length: M }, (_, i) => [
    String(jumpy[i]),
    String(runs[i]),
    smallValid[i] ? String(small[i]) : null,
  ]);
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const duck = await instance.connect();
  try {
    const rows = (
      await duck.runAndReadAll(`SELECT jumpy::VARCHAR, runs::VARCHAR, small::VARCHAR FROM '${file}'`)
    ).getRows();
    expect(rows).toEqual(want);
    const encodings = (
      await duck.runAndReadAll(`SELECT DISTINCT encodings FROM parquet_metadata('${file}')`)
    ).getRows();
    expect(encodings).toEqual([["DELTA_BINARY_PACKED, RLE"]]);
  } finally {
    duck.closeSync();
    instance.closeSync();
  }
  if (!existsSync(PYTHON)) return;
  const got = pythonReads(
    file,
    `
s = lambda v: None if v is None else str(v)
a = [[s(v) for v in r] for r in zip(*[t.column(c).to_pylist() for c in ('jumpy', 'runs', 'small')])]
b = [[s(v) for v in r] for r in zip(*[p[c].to_list() for c in ('jumpy', 'runs', 'small')])]
print(json.dumps({"arrow": a, "polars": b}))
`,
  );
  expect(got.arrow).toEqual(want);
  expect(got.polars).toEqual(want);
}, 30_000);
