// Binary COPY into column buffers (copy-duck.ts copyIntoColumns, what the bulk export writes its files from)
// against Postgres's own answers: every value the archive's columns can hold, each compared with what Postgres
// computes for it (mantissas as (v · 10^decimals)::bigint, times as µs since the epoch), across chunk
// boundaries, with NULLs in some chunks only; and the stream's errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FreshDatabase, freshDatabase } from "../lib/testing.ts";
import {
  type BinaryColumn,
  type CollectedColumn,
  CopyDecodeError,
  copyIntoColumns,
  numericMantissa,
} from "./copy-duck.ts";

let db: FreshDatabase;

const columns: BinaryColumn[] = [
  { name: "k", pg: "int4" },
  { name: "instrument_id", pg: "int4" },
  { name: "small", pg: "int2" },
  { name: "big", pg: "int8" },
  { name: "t", pg: "timestamptz" },
  { name: "price", pg: "numeric", mantissaOf: "price_decimals" },
  { name: "size", pg: "numeric", mantissaOf: "size_decimals" },
  { name: "label", pg: "text" },
];
// instrument 1: 2 price / 8 size decimals; 2: 0 / 18 (mantissas past 2^53); 9: not listed (mantissas NULL).
const decimals = {
  price: new Map([
    [1, 2],
    [2, 0],
  ]),
  size: new Map([
    [1, 8],
    [2, 18],
  ]),
};

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_copy_duck", migrate: false });
  await db.sql.unsafe(`CREATE TABLE v (k int4, instrument_id int4, small int2, big int8, t timestamptz, price numeric,
    size numeric, label text)`);
  // Edge values first, then 5,000 generated rows (three chunks), NULLs only among the first 2,048 + the edges.
  await db.sql.unsafe(`INSERT INTO v VALUES
    (1, 1, 32767, 9223372036854775807, '2026-12-02 20:30:00.123456+00', 90000.12, 0.00000001, 'buy'),
    (2, 1, -32768, -9223372036854775808, '1999-12-31 23:59:59.999999+00', 90000.0, 1, 'sell'),
    (3, 1, 0, 0, '1969-07-20 20:17:40.000001+00', -0.01, -123.45678901, ''),
    (4, 2, 1, 4294967296, '2000-01-01 00:00:00+00', 123456789012345678, 9.223372036854775807, 'a longer label'),
    (5, 2, -1, -4294967297, '2262-04-11 23:47:16.854775+00', -9007199254740993, -9.223372036854775808, 'ünïcödé'),
    (6, 1, NULL, NULL, NULL, NULL, NULL, NULL),
    (7, 9, 2, 2, '2026-01-01 00:00:00+00', 1.5, 2.5, 'buy'),
    (8, 1, 3, 3, '2026-01-01 00:00:00+00', 90000.129, 0.000000015, 'sell')`);
  await db.sql.unsafe(`INSERT INTO v SELECT 100 + i, 1 + i % 2, (i % 30000)::int2, i::int8 * 1000003, timestamptz '2026-11-01' + i * interval '1.25 ms',
      CASE WHEN i < 2000 AND i % 7 = 0 THEN NULL ELSE round(90000 + i * 0.37, 2) END, round(i * 0.00000123, 8),
      CASE WHEN i % 3 = 0 THEN 'buy' WHEN i % 3 = 1 THEN 'sell' ELSE 'side-' || (i % 5) END
    FROM generate_series(1, 5000) i`);
});
afterAll(async () => {
  await db?.drop();
});

async function load(select: string) {
  return copyIntoColumns(db.url, `COPY (${select}) TO STDOUT (FORMAT binary)`, undefined, columns, decimals);
}

/** Row r of the collected columns as text (NULL as null): int64 words as one decimal, text through the dictionary. */
function rowText(got: { columns: CollectedColumn[]; dictionary: string[] }, r: number): (string | null)[] {
  return columns.map((c, k) => {
    const col = got.columns[k] as CollectedColumn;
    if (col.valid && !col.valid[r]) return null;
    const v = new DataView(col.bytes.buffer, col.bytes.byteOffset, col.bytes.byteLength);
    switch (c.pg) {
      case "int2":
        return String(v.getInt16(2 * r, true));
      case "int4":
        return String(v.getInt32(4 * r, true));
      case "text":
        return got.dictionary[v.getUint32(4 * r, true)] ?? "<no such code>";
      default:
        return String(v.getBigInt64(8 * r, true));
    }
  });
}

describe("binary COPY into columns", () => {
  test("every value equals Postgres's own: integers, µs times, exact mantissas (past 2^53 too), text, NULLs", async () => {
    const got = await load("SELECT * FROM v ORDER BY k");
    const { rows, dictionary } = got;
    expect(rows).toBe(5008);
    // What Postgres says each value must be (digits past the decimals are dropped: 90000.129 → 9000012).
    const expected = await db.sql.unsafe(`SELECT k, instrument_id, small, big::text,
        (extract(epoch from t) * 1000000)::bigint::text AS t_us,
        CASE WHEN instrument_id IN (1, 2) THEN trunc(price * 10::numeric ^ CASE instrument_id WHEN 1 THEN 2 ELSE 0 END)::bigint::text END AS price,
        CASE WHEN instrument_id IN (1, 2) THEN trunc(size * 10::numeric ^ CASE instrument_id WHEN 1 THEN 8 ELSE 18 END)::numeric(40,0)::text END AS size,
        label FROM v ORDER BY k`);
    // NULLs only where Postgres has them: the validity of columns without any is null.
    expect(got.columns.map((c) => c.valid !== null)).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(expected.length).toBe(rows);
    const norm = (v: unknown) => (v === null || v === undefined ? null : String(v));
    const text = Array.from({ length: rows }, (_, r) => rowText(got, r));
    for (let i = 0; i < rows; i++) {
      const e = expected[i] as Record<string, unknown>;
      expect(text[i]).toEqual(
        [e.k, e.instrument_id, e.small, e.big, e.t_us, e.price, e.size, e.label].map(norm),
      );
    }
    // Spot checks that do not lean on Postgres's arithmetic.
    expect(text[0]?.slice(3, 7)).toEqual(["9223372036854775807", "1796243400123456", "9000012", "1"]);
    expect(text[3]?.slice(5, 7)).toEqual(["123456789012345678", "9223372036854775807"]);
    expect(text[4]?.slice(5, 8)).toEqual(["-9007199254740993", "-9223372036854775808", "ünïcödé"]);
    expect(new Set(dictionary)).toEqual(
      new Set([
        "buy",
        "sell",
        "",
        "a longer label",
        "ünïcödé",
        "side-2",
        "side-0",
        "side-4",
        "side-1",
        "side-3",
      ]),
    );
  });

  test("buffers sized for any expected count (odd, fewer or more rows than come) hold the same values", async () => {
    const select = "COPY (SELECT * FROM v ORDER BY k) TO STDOUT (FORMAT binary)";
    const base = await copyIntoColumns(db.url, select, undefined, columns, decimals);
    const want = Array.from({ length: base.rows }, (_, r) => rowText(base, r));
    for (const expectRows of [1, 2047, 2049, 3001, 5008, 9999]) {
      const got = await copyIntoColumns(db.url, select, undefined, columns, decimals, expectRows);
      expect(got.rows).toBe(base.rows);
      expect(Array.from({ length: got.rows }, (_, r) => rowText(got, r))).toEqual(want);
    }
  });

  test("an empty result is no rows", async () => {
    const got = await load("SELECT * FROM v WHERE false");
    expect(got.rows).toBe(0);
    expect(got.dictionary).toEqual([]);
    expect(got.columns.length).toBe(columns.length);
  });

  test("a mantissa past 64 bits, an infinite time and a wrong column count are refused", async () => {
    await expect(
      load("SELECT k, 2, small, big, t, 99999999999999999999::numeric, size, label FROM v WHERE k = 1"),
    ).rejects.toThrow(CopyDecodeError);
    await expect(
      load(
        "SELECT k, instrument_id, small, big, 'infinity'::timestamptz, price, size, label FROM v WHERE k = 1",
      ),
    ).rejects.toThrow(/infinite timestamp/);
    await expect(
      load("SELECT k, instrument_id, small, big, t, price, size FROM v WHERE k = 1"),
    ).rejects.toThrow(/7 fields, expected 8/);
  });
});

test("numericMantissa: the exact mantissa on both sides of the fast path's bound (10^15), truncated past the decimals", () => {
  // Binary NUMERICs built here (base-10000 groups aligned at the point, zero groups trimmed as Postgres does),
  // each compared with BigInt arithmetic on its digits.
  const binary = (intPart: string, frac: string, negative: boolean): DataView => {
    const ip = intPart.replace(/^0+/, "");
    const intGroups =
      ip.length === 0 ? [] : (ip.padStart(Math.ceil(ip.length / 4) * 4, "0").match(/.{4}/g) ?? []);
    const fracGroups =
      frac.length === 0 ? [] : (frac.padEnd(Math.ceil(frac.length / 4) * 4, "0").match(/.{4}/g) ?? []);
    let groups = [...intGroups, ...fracGroups].map(Number);
    let weight = intGroups.length - 1;
    while (groups.length && groups[0] === 0) {
      groups = groups.slice(1);
      weight--;
    }
    while (groups.length && groups[groups.length - 1] === 0) groups = groups.slice(0, -1);
    const v = new DataView(new ArrayBuffer(8 + 2 * groups.length));
    v.setInt16(0, groups.length);
    v.setInt16(2, groups.length ? weight : 0);
    v.setUint16(4, negative ? 0x4000 : 0);
    v.setUint16(6, frac.length);
    for (const [k, g] of groups.entries()) v.setInt16(8 + 2 * k, g);
    return v;
  };
  let seed = 7;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const digits = (n: number) => Array.from({ length: n }, () => String(rand(10))).join("");
  let fast = 0;
  for (let t = 0; t < 20_000; t++) {
    const intPart = digits(rand(20));
    const frac = digits(rand(20));
    const decimals = rand(19);
    const negative = rand(2) === 1;
    const kept = (frac + "0".repeat(decimals)).slice(0, decimals);
    const want = BigInt(`${intPart}${kept}` || "0") * (negative ? -1n : 1n);
    const v = binary(intPart, frac, negative);
    if (want > (1n << 63n) - 1n || want < -(1n << 63n)) {
      expect(() => numericMantissa(v, 0, decimals)).toThrow(CopyDecodeError);
      continue;
    }
    const got = numericMantissa(v, 0, decimals);
    expect(BigInt(got as number | bigint)).toBe(want);
    if (4 * v.getInt16(2) + decimals <= 11) fast++;
  }
  expect(fast).toBeGreaterThan(2_000); // the fast path was taken often, and so was the other
});
