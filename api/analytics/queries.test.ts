// The exact decimal formatting of the aggregations' integer results: the one-pass functions (unitsDecimal,
// divideUnits) give the same text as the string versions (trimDecimal(unitsText(…)), divideDecimal) they replace.
import { describe, expect, test } from "bun:test";
import { type DuckDBDataChunk, DuckDBInstance } from "@duckdb/node-api";
import {
  chunks,
  divideDecimal,
  divideUnits,
  integerColumn,
  ohlcv,
  packedOhlcv,
  spreadStats,
  trimDecimal,
  unitsDecimal,
  unitsText,
} from "./queries.ts";

// A deterministic spread of integers: zero, ±1, small and large, with and without trailing zeros, past 2⁶⁴.
function integers(): bigint[] {
  const out = [
    0n,
    1n,
    -1n,
    5n,
    -5n,
    10n,
    100n,
    120n,
    -120n,
    999999999n,
    1000000000n,
    2n ** 63n,
    -(2n ** 63n),
    3n * 10n ** 30n,
  ];
  let x = 88172645463325252n;
  for (let i = 0; i < 400; i++) {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    const digits = Number(x % 30n);
    let v = x % 10n ** BigInt(digits + 1);
    if (i % 3 === 0) v *= 10n ** BigInt(i % 7);
    out.push(i % 2 ? -v : v);
  }
  return out;
}

describe("exact decimal text from integer units", () => {
  test("unitsDecimal equals trimDecimal(unitsText(…)) at every scale", () => {
    for (const v of integers())
      for (const scale of [0, 1, 2, 5, 8, 9, 17])
        expect([v, scale, unitsDecimal(v, scale)]).toEqual([v, scale, trimDecimal(unitsText(v, scale))]);
    expect(unitsDecimal(12n, 9)).toBe("0.000000012");
    expect(unitsDecimal(-9000015000000n, 9)).toBe("-9000.015");
    expect(unitsDecimal(4200, 2)).toBe("42");
    expect(unitsDecimal(null, 2)).toBeNull();
  });

  test("divideUnits equals divideDecimal on the same values' text, rounding half away from zero", () => {
    const xs = integers();
    for (let i = 0; i < xs.length; i++) {
      const a = xs[i] as bigint;
      const b = xs[(i * 7 + 3) % xs.length] as bigint;
      for (const [as, bs, places] of [
        [17, 8, 13],
        [4, 2, 3],
        [2, 2, 0],
        [9, 0, 2],
      ] as const)
        expect([a, b, as, bs, places, divideUnits(a, as, b, bs, places)]).toEqual([
          a,
          b,
          as,
          bs,
          places,
          divideDecimal(unitsText(a, as) ?? "0", unitsText(b, bs) ?? "0", places),
        ]);
    }
    // 0.125 / 1 to 2 places: 0.13; −0.125: −0.13; −0.004 to 2 places: 0 (no sign).
    expect(divideUnits(125n, 3, 1n, 0, 2)).toBe("0.13");
    expect(divideUnits(-125n, 3, 1n, 0, 2)).toBe("-0.13");
    expect(divideUnits(-4n, 3, 1n, 0, 2)).toBe("0");
    expect(divideUnits(1n, 0, 0n, 0, 2)).toBeNull();
  });

  test("numbers (the number fast paths) give the same text as the same values as bigints", () => {
    // Safe integers around the paths' edges (10¹⁵, 2⁴⁹, 2⁵², 2⁵³; below 10⁻⁶ of a unit) and the spread above.
    const edges = [0, 1, 9, 10, 999999, 10 ** 15 - 1, 10 ** 15, 10 ** 15 + 1, 2 ** 49 - 1, 2 ** 49, 2 ** 52];
    const xs = [
      ...edges.flatMap((x) => [x, -x]),
      ...[2 ** 53 - 1, -(2 ** 53 - 1)],
      ...integers()
        .filter((v) => v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n)
        .map(Number),
    ];
    let x = 0x9e3779b9;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    // Prices and sizes like a 1-minute bucket's (price · size sums and volumes), with their mixed magnitudes.
    for (let i = 0; i < 3000; i++) xs.push((next() % 2 ** 20) * 2 ** (next() % 33) + (next() % 1000));
    for (const v of xs)
      for (const scale of [1, 2, 5, 8, 9, 12, 15])
        expect([v, scale, unitsDecimal(v, scale)]).toEqual([v, scale, unitsDecimal(BigInt(v), scale)]);
    for (let i = 0; i < xs.length; i++) {
      const a = xs[i] as number;
      const b = xs[(i * 7 + 3) % xs.length] as number;
      for (const [as, bs, places] of [
        [10, 8, 12],
        [17, 8, 13],
        [4, 2, 3],
        [2, 2, 0],
        [9, 0, 2],
        [2, 9, 4],
      ] as const)
        expect([a, b, as, bs, places, divideUnits(a, as, b, bs, places)]).toEqual([
          a,
          b,
          as,
          bs,
          places,
          divideUnits(BigInt(a), as, BigInt(b), bs, places),
        ]);
    }
    // Divisors of every size (1 to 2⁴⁹: 15 down to 1 digits a step), negative operands, and quotients just
    // under a rounding carry through several steps of digits.
    for (let i = 0; i < 4000; i++) {
      const d = Math.max(1, Math.floor((next() / 2 ** 32) * 2 ** (next() % 49)));
      const a = ((next() % 2 ? -1 : 1) * Math.floor((next() / 2 ** 32) * 2 ** (next() % 52))) as number;
      for (const [as, places] of [
        [0, 13],
        [3, 1],
        [8, 30],
        [2, 7],
      ] as const)
        expect([a, d, as, places, divideUnits(a, as, d, 0, places)]).toEqual([
          a,
          d,
          as,
          places,
          divideUnits(BigInt(a), as, BigInt(d), 0, places),
        ]);
    }
    expect(divideUnits(99999999999999, 0, 100000000000000, 0, 13)).toBe("1");
    expect(divideUnits(-199999999999995, 0, 100000000000000, 0, 13)).toBe("-2");
    expect(divideUnits(123456789012345, 0, 100000000000000, 0, 20)).toBe("1.23456789012345");
    // Rounding carries through every digit into the whole part; a quotient that rounds to 0 has no sign.
    expect(divideUnits(99999, 0, 100000, 0, 4)).toBe("1");
    expect(divideUnits(-99999, 0, 100000, 0, 4)).toBe("-1");
    expect(divideUnits(-4, 3, 1, 0, 2)).toBe("0");
    expect(unitsDecimal(12, 9)).toBe("0.000000012");
  });
});

describe("reading integer columns out of DuckDB", () => {
  test("integerColumn gives getItem's value on every row (a number where safe): each integer type, nulls, signs, the 2⁵³, 2⁶³ and 2⁶⁴ edges, several chunks", async () => {
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    // 5,000 rows (3 chunks); nulls at scattered rows (validity bits in every byte of the mask), columns without
    // any; the first rows of the edge columns hold the values either side of 2⁵³, 2⁶³ and 2⁶⁴.
    const edges = [
      0n,
      1n,
      -1n,
      2n ** 53n - 1n,
      2n ** 53n,
      2n ** 53n + 1n,
      -(2n ** 53n) + 1n,
      -(2n ** 53n),
      -(2n ** 53n) - 1n,
    ];
    const big = [
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 64n,
      -(2n ** 64n),
      2n ** 127n - 1n,
      -(2n ** 127n),
      2n ** 32n,
      -(2n ** 32n),
    ];
    const list = (xs: bigint[], type: string) => `[${xs.map((x) => `(${x})::${type}`).join(", ")}]`;
    const parts = await chunks(
      duck,
      `SELECT (i % 200 - 100)::TINYINT, CASE WHEN i % 7 = 3 THEN NULL ELSE (i * 12 - 32000)::SMALLINT END,
         (i * 104729 - 2147483647)::INTEGER, CASE WHEN i % 11 = 0 THEN NULL ELSE i * 9007199254741 - 9223372036854775807 END,
         i::UBIGINT * 3689348814741910::UBIGINT,
         CASE WHEN i % 5 = 1 THEN NULL ELSE (i - 2500)::HUGEINT * 68056473384187692692674921486353 END,
         (i::HUGEINT * 18446744073709551616 + i), (i * 1000)::HUGEINT, i::USMALLINT, (i % 2 = 0),
         coalesce(${list([...edges, 2n ** 63n - 1n, -(2n ** 63n)], "BIGINT")}[i + 1], i * 1000),
         coalesce(${list([...edges, ...big], "HUGEINT")}[i + 1], -i::HUGEINT),
         coalesce(${list([0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n], "UBIGINT")}[i + 1], i::UBIGINT)
       FROM range(5000) t(i)`,
    );
    duck.closeSync();
    expect(parts.length).toBeGreaterThan(1);
    const exact = (x: unknown) => (typeof x === "number" || typeof x === "bigint" ? BigInt(x) : x);
    let rows = 0;
    let numbers = 0;
    for (const chunk of parts) {
      for (let c = 0; c < chunk.columnCount; c++) {
        const read = integerColumn(chunk, c);
        const vector = chunk.getColumnVector(c);
        const got = Array.from({ length: chunk.rowCount }, (_, r) => read(r));
        const want = Array.from({ length: chunk.rowCount }, (_, r) => vector.getItem(r));
        expect([c, got.map(exact)]).toEqual([c, want.map(exact)]);
        // A number only where it is exact, and every value within ±2⁵³ of a 64- or 128-bit column is one.
        for (const x of got) {
          if (typeof x === "number") {
            expect(x >= -(2 ** 53) && x < 2 ** 53).toBe(true);
            numbers++;
          }
          if (typeof x === "bigint") expect(x >= 2n ** 53n || x < -(2n ** 53n)).toBe(true);
        }
      }
      rows += chunk.rowCount;
    }
    expect(rows).toBe(5000);
    expect(numbers).toBeGreaterThan(5000 * 7);
  });
});

describe("OHLCV over trades at different decimals", () => {
  test("a bucket mixing an instrument's old and new decimals is one row, first/last by (time, trade_id)", async () => {
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    await duck.run("SET TimeZone = 'UTC'");
    // Minute 0: 100.25 × 0.5 (2 and 8 decimals), then at one instant 100.125 × 1.25 (3 and 6 decimals, trade 2) and
    // 99.5 × 2 (trade 3: the close). Minute 1: 101.001 × 0.000001 alone.
    await duck.run(`CREATE TABLE v AS SELECT 1::SMALLINT AS exchange, 1 AS instrument_id,
        make_timestamp(1764547200000000 + s * 1000000)::TIMESTAMPTZ AS time, id::UBIGINT AS trade_id,
        p::BIGINT AS price_mantissa, q::BIGINT AS size_mantissa, pd::SMALLINT AS price_decimals, sd::SMALLINT AS size_decimals
      FROM (VALUES (1, 1, 10025, 50000000, 2, 8), (2, 3, 9950, 200000000, 2, 8), (2, 2, 100125, 1250000, 3, 6),
        (61, 4, 101001, 1, 3, 6)) t(s, id, p, q, pd, sd)`);
    const rows = await ohlcv(duck, "v", 60, 7, { price: 3, size: 8 });
    duck.closeSync();
    const at = (m: number) =>
      new Date(Date.UTC(2025, 11, 1, 0, m)).toISOString().replace(".000Z", ".000000Z");
    expect(rows).toEqual([
      {
        exchange: 1,
        instrumentId: 1,
        time: at(0),
        open: "100.25",
        high: "100.25",
        low: "99.5",
        close: "99.5",
        volume: "3.75",
        vwap: divideDecimal("374.28125", "3.75", 7),
        trades: 3,
      },
      {
        exchange: 1,
        instrumentId: 1,
        time: at(1),
        open: "101.001",
        high: "101.001",
        low: "101.001",
        close: "101.001",
        volume: "0.000001",
        vwap: "101.001",
        trades: 1,
      },
    ]);
    expect(rows[0]?.vwap).toBe("99.8083333");
  });
});

describe("OHLCV's first and last trade", () => {
  test("by (time, trade_id) when trade ids are too large for the packed key", async () => {
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    await duck.run("SET TimeZone = 'UTC'");
    // 1 µs apart: trade 2⁴⁰ (past both packed keys' bounds: 1.07·10⁸ a day, 1.5·10¹¹ a minute) at 10, then trade 7
    // at 20, then at one instant trades 2⁴⁰ + 1 at 30 and 2⁴⁰ at 40 (the close: the larger id at the last instant).
    await duck.run(`CREATE TABLE v AS SELECT 1::SMALLINT AS exchange, 1 AS instrument_id,
        make_timestamp(1764547200000000 + s)::TIMESTAMPTZ AS time, id::UBIGINT AS trade_id,
        p::BIGINT AS price_mantissa, 100::BIGINT AS size_mantissa, 0::SMALLINT AS price_decimals, 2::SMALLINT AS size_decimals
      FROM (VALUES (1, 1099511627776, 10), (2, 7, 20), (3, 1099511627777, 30), (3, 1099511627776, 40)) t(s, id, p)`);
    const [day] = await ohlcv(duck, "v", 86_400, 4, { price: 0, size: 2 });
    const [minute] = await ohlcv(duck, "v", 60, 4, { price: 0, size: 2 });
    duck.closeSync();
    expect([day?.open, day?.close, day?.high, day?.low, day?.trades]).toEqual(["10", "30", "40", "10", 4]);
    expect([minute?.open, minute?.close]).toEqual(["10", "30"]);
  });
});

describe("OHLCV's buckets", () => {
  test("before time_bucket's origin (2000-01-03) they are floors too", async () => {
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    await duck.run("SET TimeZone = 'UTC'");
    await duck.run(`CREATE TABLE v AS SELECT 1::SMALLINT AS exchange, 1 AS instrument_id, t::TIMESTAMPTZ AS time,
        id::UBIGINT AS trade_id, 5::BIGINT AS price_mantissa, 1::BIGINT AS size_mantissa, 0::SMALLINT AS price_decimals,
        0::SMALLINT AS size_decimals
      FROM (VALUES ('1999-12-31 23:59:30+00', 1), ('2000-01-03 00:00:30+00', 2), ('2026-12-02 10:00:59.999999+00', 3)) x(t, id)`);
    const rows = await ohlcv(duck, "v", 60, 4, { price: 0, size: 0 });
    duck.closeSync();
    expect(rows.map((r) => [r.time, r.trades])).toEqual([
      ["1999-12-31T23:59:00.000000Z", 1],
      ["2000-01-03T00:00:00.000000Z", 1],
      ["2026-12-02T10:00:00.000000Z", 1],
    ]);
  });

  test("exchange-sized trade ids (billions) take the packed key when their span fits, and keep (time, trade_id)", async () => {
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    await duck.run("SET TimeZone = 'UTC'");
    // Binance-like ids near 5·10⁹ (past the day's bound 1.07·10⁸ as such, but spanning 3): trade 5e9+2 at 10,
    // then at one later instant 5e9+3 at 30 and 5e9+1 at 40 (the close: the larger id at the last instant).
    const base = 5_000_000_000;
    await duck.run(`CREATE TABLE v AS SELECT 1::SMALLINT AS exchange, 1 AS instrument_id,
        make_timestamp(1764547200000000 + s)::TIMESTAMPTZ AS time, id::UBIGINT AS trade_id,
        p::BIGINT AS price_mantissa, 100::BIGINT AS size_mantissa, 0::SMALLINT AS price_decimals, 2::SMALLINT AS size_decimals
      FROM (VALUES (1, ${base + 2}, 10), (3, ${base + 3}, 30), (3, ${base + 1}, 40)) t(s, id, p)`);
    expect(await packedOhlcv(duck, "v", 86_400)).not.toBeNull();
    // Bounds the range already knows (its files' statistics), a superset: the same path without the scan.
    const from = new Date(1764547200000);
    const known = (lo: number, hi: number) => ({ ids: { lo: BigInt(lo), hi: BigInt(hi) }, from });
    const rowsOf = (c: DuckDBDataChunk[] | null) => c?.flatMap((x) => x.getRows()) ?? null;
    expect(rowsOf(await packedOhlcv(duck, "v", 86_400, known(base, base + 10)))).toEqual(
      rowsOf(await packedOhlcv(duck, "v", 86_400)),
    );
    expect(await packedOhlcv(duck, "v", 86_400, known(base, base + 200_000_000))).toBeNull();
    const [day] = await ohlcv(duck, "v", 86_400, 4, { price: 0, size: 2 });
    // Spanning the bound: the exact query, chosen before any aggregation runs.
    await duck.run(`INSERT INTO v SELECT exchange, instrument_id, time, trade_id + 200000000, price_mantissa, size_mantissa,
        price_decimals, size_decimals FROM v WHERE trade_id = ${base + 2}`);
    expect(await packedOhlcv(duck, "v", 86_400)).toBeNull();
    duck.closeSync();
    expect([day?.open, day?.close, day?.high, day?.low, day?.trades]).toEqual(["10", "30", "40", "10", 3]);
  });
});

describe("OHLCV's packed query, its keys and known decimals", () => {
  test("one decimals known, small ids (offset · (hi + 1) + id) and widths that do or do not divide the origin: the exact query's rows", async () => {
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    await duck.run("SET TimeZone = 'UTC'");
    // 3,000 trades, eight a minute (one exchange and instrument each minute, two at each of four instants 1 µs
    // apart: first and last by trade id there), ids 0..2999 in an order unrelated to time, at 2 and 8 decimals.
    await duck.run(`CREATE TABLE v AS SELECT (1 + (i // 8) % 2)::SMALLINT AS exchange, 1 + (i // 16) % 2 AS instrument_id,
        make_timestamp(1764547200000000 + (i // 8) * 60000000 + (i % 8) // 2)::TIMESTAMPTZ AS time,
        (row_number() OVER (ORDER BY hash(i)) - 1)::UBIGINT AS trade_id,
        (9000000 + (hash(i) % 100000))::BIGINT AS price_mantissa, (1 + hash(i * 3) % 100000000)::BIGINT AS size_mantissa,
        2::SMALLINT AS price_decimals, 8::SMALLINT AS size_decimals FROM range(3000) t(i)`);
    const from = new Date(1764547200000);
    const rowsOf = (c: DuckDBDataChunk[] | null) => c?.flatMap((x) => x.getRows()) ?? null;
    for (const seconds of [60, 7, 3600, 86_400]) {
      const exact = (
        await duck.runAndReadAll(`SELECT exchange, instrument_id,
            epoch_us(time_bucket(INTERVAL '${seconds} seconds', time)) AS b, 2::SMALLINT, 8::SMALLINT,
            first(price_mantissa ORDER BY time, trade_id), max(price_mantissa), min(price_mantissa),
            last(price_mantissa ORDER BY time, trade_id), sum(size_mantissa), sum(price_mantissa::HUGEINT * size_mantissa),
            count(*)::BIGINT FROM v GROUP BY ALL ORDER BY b, exchange, instrument_id`)
      ).getRows();
      const norm = (rows: unknown[][] | null) =>
        rows?.map((r) => r.map((x) => (typeof x === "number" ? BigInt(x) : x)));
      const ids = { lo: 0n, hi: 2999n };
      for (const known of [
        undefined,
        { ids, from },
        { ids, from, decimals: { price: 2, size: 8 } },
        // A superset of the ids past the small key's bound (hi + 1 > ⌊(2⁶³ − 1) / width⌋ for a day): lo subtracted.
        { ids: { lo: 0n, hi: 100_000_000n }, from, decimals: { price: 2, size: 8 } },
      ])
        expect([seconds, norm(rowsOf(await packedOhlcv(duck, "v", seconds, known)))]).toEqual([
          seconds,
          norm(exact),
        ]);
    }
    duck.closeSync();
  });
});

describe("spreads' seconds", () => {
  test("before 1970 they are floors too (the plain division truncates toward zero there)", async () => {
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    await duck.run("SET TimeZone = 'UTC'");
    // 23:59:59.5 on 1969-12-31 and 00:00:00.3 on 1970-01-01: two seconds, one exchange in each, so no
    // cross-exchange sample; one second (a spread of 1) if -0.5 s were truncated to second 0.
    await duck.run(`CREATE TABLE tops AS SELECT * FROM (VALUES
      (1::SMALLINT, 1, TIMESTAMPTZ '1969-12-31 23:59:59.5+00', 2::SMALLINT, 10000::BIGINT, 10100::BIGINT),
      (2::SMALLINT, 1, TIMESTAMPTZ '1970-01-01 00:00:00.3+00', 2::SMALLINT, 10000::BIGINT, 10300::BIGINT))
      t(exchange, instrument_id, time, price_decimals, bid_price_mantissa, ask_price_mantissa)`);
    const range = { from: new Date(-86_400_000), to: new Date(86_400_000) };
    const rows = await spreadStats(duck, "tops", 2, range);
    expect(rows.map((r) => [r.scope, r.samples, r.min])).toEqual([
      [1, 1, "1"],
      [2, 1, "3"],
    ]);
    // From 1970 on (both rows 1 h 0.6 s later: 01:00:00.1 and .9) the plain division; one second, both exchanges: a spread of 1.
    await duck.run("UPDATE tops SET time = time + INTERVAL 1 HOUR + INTERVAL 600 MILLISECOND");
    const later = await spreadStats(duck, "tops", 2, { from: new Date(0), to: new Date(86_400_000) });
    expect(later.map((r) => [r.scope, r.samples, r.min])).toEqual([
      [1, 1, "1"],
      [2, 1, "3"],
      ["cross", 1, "1"],
    ]);
    duck.closeSync();
  });
});

describe("spreads' fast path", () => {
  // percentile_disc: the ⌈n·p⌉-th smallest (at least the first), on exact integers.
  const disc = (xs: bigint[]) => {
    const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const at = (p: number) => s[Math.max(1, Math.floor((s.length * p + 99) / 100)) - 1] ?? null;
    return { samples: s.length, p: [at(50), at(90), at(99)], min: s[0], max: s.at(-1) };
  };
  const SCALE = 8;
  async function reference(duck: Awaited<ReturnType<typeof connect>>) {
    const units = (m: string) => `${m}::HUGEINT * 10::HUGEINT ** (${SCALE} - price_decimals)`;
    const per = (
      await duck.runAndReadAll(
        `SELECT exchange, instrument_id, ${units("ask_price_mantissa")} - ${units("bid_price_mantissa")} FROM tops`,
      )
    ).getRows();
    const cross = (
      await duck.runAndReadAll(`SELECT instrument_id, min(ask) - max(bid) FROM (
        SELECT instrument_id, epoch_us(time) // 1000000 AS s, exchange, arg_max(${units("ask_price_mantissa")}, time) AS ask,
          arg_max(${units("bid_price_mantissa")}, time) AS bid FROM tops GROUP BY ALL) GROUP BY instrument_id, s HAVING count(*) > 1`)
    ).getRows();
    const groups = new Map<string, bigint[]>();
    const add = (key: string, x: unknown) =>
      groups.set(key, [...(groups.get(key) ?? []), BigInt(x as bigint)]);
    for (const r of per) add(`${r[0]} ${r[1]}`, r[2]);
    for (const r of cross) add(`cross ${r[0]}`, r[1]);
    const text = (v: bigint | null | undefined) =>
      v === null || v === undefined ? null : unitsDecimal(v, SCALE);
    return [...groups]
      .map(([key, xs]) => {
        const [scope, id] = key.split(" ");
        const d = disc(xs);
        return {
          scope: scope === "cross" ? ("cross" as const) : Number(scope),
          instrumentId: Number(id),
          samples: d.samples,
          p50: text(d.p[0]),
          p90: text(d.p[1]),
          p99: text(d.p[2]),
          min: text(d.min),
          max: text(d.max),
        };
      })
      .sort((a, b) =>
        a.scope === b.scope
          ? a.instrumentId - b.instrumentId
          : a.scope === "cross"
            ? 1
            : b.scope === "cross"
              ? -1
              : a.scope - b.scope,
      );
  }
  async function connect() {
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    await duck.run("SET TimeZone = 'UTC'");
    return duck;
  }
  // Two hours across midnight (two UTC days). Instrument 2 at 8 decimals on exchanges 1 and 2, one top a second
  // each (exchange 2 skips every seventh); 5 at 2 decimals on three exchanges; 3 on one exchange only.
  const one = `SELECT e::SMALLINT AS exchange, i AS instrument_id,
      TIMESTAMPTZ '2026-11-28 23:00:00+00' + to_microseconds((s * 1000000 + e * 100000 + i * 1000)::BIGINT) AS time,
      (CASE WHEN i = 2 THEN 8 ELSE 2 END)::SMALLINT AS price_decimals,
      (9000000 + (s * 7 + e * 13 + i) % 97)::BIGINT * (CASE WHEN i = 2 THEN 1000000 ELSE 1 END) AS bid_price_mantissa,
      (9000000 + (s * 7 + e * 13 + i) % 97 + (s * 11 + e * 3) % 23 - 5)::BIGINT * (CASE WHEN i = 2 THEN 1000000 ELSE 1 END)
        + (CASE WHEN i = 2 THEN (s * 31 + e) % 999983 ELSE 0 END) AS ask_price_mantissa
    FROM range(7200) t(s), range(1, 4) x(e), (VALUES (2), (5), (3)) y(i)
    WHERE (i = 2 AND e < 3 AND NOT (e = 2 AND s % 7 = 0)) OR (i = 5 AND (e < 3 OR s % 3 = 0)) OR (i = 3 AND e = 3)`;
  const days = [
    "SELECT * FROM tops WHERE time < TIMESTAMPTZ '2026-11-29 00:00:00+00'",
    "SELECT * FROM tops WHERE time >= TIMESTAMPTZ '2026-11-29 00:00:00+00'",
  ];
  const range = { from: new Date(Date.UTC(2026, 10, 28, 23)), to: new Date(Date.UTC(2026, 10, 29, 1)) };
  const twice = `${one} UNION ALL SELECT 1::SMALLINT, 5, time + INTERVAL 300 MILLISECOND, 2::SMALLINT, bid_price_mantissa - 3, ask_price_mantissa + 4
        FROM (${one}) WHERE instrument_id = 5 AND exchange = 1 AND epoch(time)::BIGINT % 5 = 0`;
  // name, rows, the fast path, cross-exchange rows, every row's price decimals when the caller knows them.
  const cases: [string, string, boolean, number, number?][] = [
    ["one top an exchange a second: the mantissas' histogram, by day", one, true, 2],
    ["an exchange twice in some seconds: the exact statement", twice, false, 2],
    [
      "every row at 2 decimals, known: the histogram without a decimals key",
      `SELECT * FROM (${one}) WHERE instrument_id <> 2`,
      true,
      1,
      2,
    ],
    [
      "every row at 2 decimals, known, an exchange twice in some seconds",
      `SELECT * FROM (${twice}) WHERE instrument_id <> 2`,
      false,
      1,
      2,
    ],
    [
      "an instrument at two decimals: the exact statement",
      `${one} UNION ALL SELECT 2::SMALLINT, 3, time + INTERVAL 50 MILLISECOND, 3::SMALLINT, bid_price_mantissa * 10 + 7, ask_price_mantissa * 10 + 9
        FROM (${one}) WHERE instrument_id = 3`,
      false,
      3,
    ],
  ];
  for (const [name, data, fast, crossRows, decimals] of cases)
    test(name, async () => {
      const duck = await connect();
      await duck.run(`CREATE TABLE tops AS ${data}`);
      const want = await reference(duck);
      expect(want.filter((r) => r.scope === "cross").length).toBe(crossRows);
      const statements: string[] = [];
      const seen = new Proxy(duck, {
        get(target, key) {
          if (key !== "runAndReadAll") return Reflect.get(target, key);
          return (q: string) => {
            statements.push(q);
            return target.runAndReadAll(q);
          };
        },
      });
      expect(await spreadStats(seen, "tops", SCALE, range, null, decimals)).toEqual(want);
      const whole = statements.length;
      expect(await spreadStats(seen, "tops", SCALE, range, days, decimals)).toEqual(want);
      expect(statements[0]?.includes("GROUP BY 1, 2, 4")).toBe(decimals !== undefined);
      // By day, each day's per-second grouping runs on one thread (the LIMIT that drops nothing); the whole
      // range as one slice keeps the parallel scan.
      const limited = (qs: string[]) => qs.some((q) => q.includes(`LIMIT ${2n ** 63n - 1n}`));
      expect(limited(statements.slice(0, whole))).toBe(false);
      if (fast) expect(limited(statements.slice(whole))).toBe(true);
      // The exact statement (its semi join) ran only where it had to.
      expect(statements.some((q) => q.includes("SEMI JOIN"))).toBe(!fast);
      duck.closeSync();
    });
});
