// The database side of a range (liveSql): exactly the rows that no partition covers, whatever the partitions'
// shape: gaps between them, an exchange without any, partitions reaching past the range, filters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FreshDatabase, freshDatabase } from "../../lib/testing.ts";
import { datasetByName } from "../../schema/archive.ts";
import { liveProbeSql, liveSql } from "./source.ts";

const H = 3_600_000;
const base = Date.UTC(2026, 10, 29, 0);
const trades = datasetByName("trades");
let db: FreshDatabase;

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_analytics_live" });
  // A trade every 10 minutes for 6 hours on three exchanges, two instruments each.
  const rows: string[] = [];
  for (let m = 0; m < 360; m += 10)
    for (const ex of [1, 2, 3])
      for (const inst of [1, 2]) {
        const t = base + m * 60_000 + ex * 1000;
        rows.push(
          `('${new Date(t).toISOString()}', ${ex}, ${inst}, ${m * 10 + ex * 2 + inst}, 100.5, 0.25, 'buy', ${m}, ${t}000000)`,
        );
      }
  await db.sql.unsafe(
    `INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns) VALUES ${rows.join(", ")}`,
  );
});
afterAll(() => db?.drop());

const hours = (exchange: number, ...starts: number[]) =>
  starts.map((h) => ({ exchange, start: new Date(base + h * H), end: new Date(base + (h + 1) * H) }));

/** What an anti-join against the partitions gives: the reference. */
async function reference(
  f: { from: Date; to: Date; exchanges: number[]; instruments: number[] },
  parts: { exchange: number; start: Date; end: Date }[],
) {
  const rows = await db.sql`SELECT exchange, time, instrument_id FROM trades
    WHERE time >= ${f.from} AND time < ${f.to}
    AND (${f.exchanges.length === 0} OR exchange = ANY(${f.exchanges}))
    AND (${f.instruments.length === 0} OR instrument_id = ANY(${f.instruments}))`;
  return rows
    .filter(
      (r) =>
        !parts.some(
          (p) => p.exchange === r.exchange && r.time >= p.start && r.time.getTime() < p.end.getTime(),
        ),
    )
    .map((r) => `${r.exchange} ${r.instrument_id} ${r.time.toISOString()}`)
    .sort();
}

async function live(
  f: { from: Date; to: Date; exchanges: number[]; instruments: number[] },
  parts: { exchange: number; start: Date; end: Date }[],
) {
  if (!trades) throw new Error("no trades dataset");
  const rows = await db.sql.unsafe(
    `SELECT exchange_id, instrument_id, time FROM (${liveSql(trades, f, parts)}) s`,
  );
  return rows
    .map((r) => `${r.exchange_id} ${r.instrument_id} ${new Date(Number(r.time) / 1000).toISOString()}`)
    .sort();
}

describe("the database side of a range", () => {
  type Filter = { from: Date; to: Date; exchanges: number[]; instruments: number[] };
  const all: Filter = { from: new Date(base), to: new Date(base + 6 * H), exchanges: [], instruments: [] };
  const cases: [string, Filter, ReturnType<typeof hours>][] = [
    ["no partitions: every row", all, []],
    ["a gap in the middle, an exchange without partitions", all, [...hours(1, 0, 1, 3, 4), ...hours(2, 0)]],
    [
      "partitions reaching past the range on both sides",
      { ...all, from: new Date(base + 1.5 * H), to: new Date(base + 4.5 * H) },
      hours(1, 1, 2, 4),
    ],
    [
      "everything covered",
      all,
      [...hours(1, 0, 1, 2, 3, 4, 5), ...hours(2, 0, 1, 2, 3, 4, 5), ...hours(3, 0, 1, 2, 3, 4, 5)],
    ],
    ["filtered by exchange and instrument", { ...all, exchanges: [1, 3], instruments: [2] }, hours(1, 2)],
  ];
  for (const [name, f, parts] of cases)
    test(name, async () => {
      const want = await reference(f, parts);
      expect(await live(f, parts)).toEqual(want);
      // The probe (whether to open a COPY connection at all) says rows exactly when there are.
      if (!trades) throw new Error("no trades dataset");
      const probe = await db.sql.unsafe(liveProbeSql(liveSql(trades, f, parts)));
      expect(probe.length).toBe(want.length ? 1 : 0);
      if (name.startsWith("no partitions")) expect(want.length).toBe(216);
      if (name.startsWith("everything")) expect(want.length).toBe(0);
    });
});

describe("the database side's plan", () => {
  const tops = datasetByName("book_tops");
  test("a range with gaps is read through the index, not by scanning the table", async () => {
    if (!tops) throw new Error("no book_tops dataset");
    // Two days of 1-second tops on three exchanges (518,400 rows): enough that a scan costs more than the index.
    await db.sql.unsafe(`INSERT INTO book_tops (time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size)
      SELECT to_timestamp(${base / 1000} + s), ex, 1, 100, 1, 101, 1 FROM generate_series(0, 172799) s, generate_series(1, 3) ex`);
    await db.sql`ANALYZE book_tops`;
    // Archived: the first day on every exchange; the range reaches an hour into the second day (a gap each).
    const parts = [1, 2, 3].map((exchange) => ({
      exchange,
      start: new Date(base),
      end: new Date(base + 24 * H),
    }));
    const f = { from: new Date(base), to: new Date(base + 25 * H), exchanges: [], instruments: [] };
    // The rows, and the probe for any row (LIMIT 1: a plan of its own).
    for (const statement of [liveSql(tops, f, parts), liveProbeSql(liveSql(tops, f, parts))]) {
      const [plan] = await db.sql.unsafe(`EXPLAIN (FORMAT JSON) ${statement}`);
      const nodes: { "Node Type": string; "Relation Name"?: string }[] = [];
      const walk = (n: { Plans?: unknown[] } & (typeof nodes)[number]) => {
        nodes.push(n);
        for (const c of n.Plans ?? []) walk(c as typeof n);
      };
      walk(plan?.["QUERY PLAN"][0].Plan);
      expect(
        nodes.filter((n) => n["Relation Name"] === "book_tops" && n["Node Type"].includes("Seq Scan")),
      ).toEqual([]);
    }
    const [n] = await db.sql.unsafe(`SELECT count(*)::int AS n FROM (${liveSql(tops, f, parts)}) s`);
    expect(n?.n).toBe(3 * 3600);
  }, 30_000); // inserting half a million rows takes seconds on a loaded machine
});
