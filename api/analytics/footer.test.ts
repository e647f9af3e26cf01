// footerBounds against DuckDB's own reading of the same footers (parquet_metadata) and the values themselves, on
// files of the archive's writer and of DuckDB's COPY: unsigned past 2⁶³, negative, several row groups, an all-NULL
// row group, a column that is not INT64, a column that is not there.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { encodeParquet, type ParquetColumn } from "../../archiver/parquet.ts";
import { footerBounds, footerStats } from "./footer.ts";

const dir = mkdtempSync(join(tmpdir(), "tw-footer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const N = 1000;
const words = (f: (i: number) => bigint) =>
  new Int32Array(BigInt64Array.from({ length: N }, (_, i) => BigInt.asIntN(64, f(i))).buffer);
const ids = (i: number) => 2n ** 64n - 1n - BigInt((i * 7919) % N) * 1_000_003n;
const signed = (i: number) => BigInt((i * 31) % N) * -(2n ** 53n) + 17n;

test("the bounds are DuckDB's reading of the footer's statistics, and hold every value", async () => {
  const cols: ParquetColumn[] = [
    { name: "trade_id", kind: "int64", logical: "uint64", words: words(ids), valid: null },
    { name: "signed", kind: "int64", logical: "int64", words: words(signed), valid: null },
    {
      name: "sparse",
      kind: "int64",
      logical: "int64",
      words: words(signed),
      valid: Uint8Array.from({ length: N }, (_, i) => (i < 300 ? 0 : 1)),
    },
    { name: "small", kind: "int32", logical: "int32", values: new Int32Array(N), valid: null },
  ];
  const ours = join(dir, "ours.parquet");
  writeFileSync(ours, await encodeParquet(cols, N, {}, "test", 300));
  const duck = await (await DuckDBInstance.create(":memory:")).connect();
  const theirs = join(dir, "theirs.parquet");
  await duck.run(`COPY (SELECT * FROM '${ours}') TO '${theirs}' (FORMAT parquet, ROW_GROUP_SIZE 128)`);
  for (const file of [ours, theirs]) {
    for (const [column, lo, hi] of [
      ["trade_id", ids(0) - 999n * 1_000_003n, ids(0)],
      ["signed", 999n * -(2n ** 53n) + 17n, 17n],
    ] as const) {
      const [meta] = (
        await duck.runAndReadAll(
          `SELECT min(stats_min_value::HUGEINT), max(stats_max_value::HUGEINT) FROM parquet_metadata('${file}')
           WHERE path_in_schema = '${column}'`,
        )
      ).getRows();
      expect([column, footerBounds(file, column)]).toEqual([
        column,
        { lo: BigInt(meta?.[0] as bigint), hi: BigInt(meta?.[1] as bigint) },
      ]);
      expect(footerBounds(file, column)).toEqual({ lo, hi });
    }
    // Rows 0–299 NULL: the first row group (ours: 300 rows, DuckDB's: 128) has no bounds, so the file has none.
    expect(footerBounds(file, "sparse")).toBeNull();
    expect(footerBounds(file, "small")).toBeNull();
    expect(footerBounds(file, "absent")).toBeNull();
  }
  duck.closeSync();
});

test("footerStats reads INT32 columns too, several at once, with whether a row group holds NULLs", async () => {
  const small = (i: number) => ((i * 37) % 200) - 100;
  const cols: ParquetColumn[] = [
    { name: "trade_id", kind: "int64", logical: "uint64", words: words(ids), valid: null },
    { name: "decimals", kind: "int32", logical: "int16", values: new Int32Array(N).fill(8), valid: null },
    {
      name: "small",
      kind: "int32",
      logical: "int32",
      values: Int32Array.from({ length: N }, (_, i) => small(i)),
      valid: null,
    },
    {
      name: "sparse",
      kind: "int32",
      logical: "int32",
      values: new Int32Array(N).fill(3),
      valid: Uint8Array.from({ length: N }, (_, i) => (i === 700 ? 0 : 1)),
    },
  ];
  const ours = join(dir, "int32.parquet");
  writeFileSync(ours, await encodeParquet(cols, N, {}, "test", 300));
  const duck = await (await DuckDBInstance.create(":memory:")).connect();
  const theirs = join(dir, "int32-duck.parquet");
  await duck.run(`COPY (SELECT * FROM '${ours}') TO '${theirs}' (FORMAT parquet, ROW_GROUP_SIZE 128)`);
  duck.closeSync();
  for (const file of [ours, theirs]) {
    const s = footerStats(file, ["decimals", "small", "sparse", "trade_id", "absent"]);
    expect(s.get("decimals")).toEqual({ lo: 8n, hi: 8n, nulls: false });
    expect(s.get("small")).toEqual({ lo: -100n, hi: 99n, nulls: false });
    // Row 700 NULL: its row group says so; the bounds still hold every other value.
    expect(s.get("sparse")).toEqual({ lo: 3n, hi: 3n, nulls: true });
    expect(s.get("trade_id")).toEqual({ lo: ids(0) - 999n * 1_000_003n, hi: ids(0), nulls: false });
    expect(s.has("absent")).toBe(false);
    // footerBounds stays INT64 only.
    expect(footerBounds(file, "decimals")).toBeNull();
  }
});

test("a file that is not Parquet is an error, not bounds", () => {
  const file = join(dir, "not.parquet");
  writeFileSync(file, "PAR1 this is not a footer PAR1");
  expect(() => footerBounds(file, "trade_id")).toThrow();
});
