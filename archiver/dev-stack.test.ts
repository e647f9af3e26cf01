// The archiver in the real stack (the Procfile's processes: simulator, three collectors, relay, bridge,
// archiver, API; ops/stack-fixture.ts) with 1-minute partitions: a closed minute appears in the archive,
// verified in archive_manifest (file bytes hash to its sha256, its rows are the database's rows of that
// minute), and the analytics route answers across archive and database with every trade once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { waitFor } from "../lib/testing.ts";
import { type Stack, startStack } from "../ops/stack-fixture.ts";
import { sha256Of } from "./store.ts";

let stack: Stack;
let archiveDir: string;
let startedAt: Date;

beforeAll(async () => {
  archiveDir = mkdtempSync(join(tmpdir(), "tw-dev-archive-"));
  startedAt = new Date();
  stack = await startStack({
    full: true,
    env: { ARCHIVE_INTERVAL: "60", ARCHIVE_CHECK_INTERVAL: "1000", ARCHIVE_DIR: archiveDir },
  });
}, 120_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  rmSync(archiveDir, { recursive: true, force: true });
});

describe("archiver on the running stack", () => {
  test("a closed minute is archived and verified; analytics count every trade once across the seam", async () => {
    // The first minute with trades from every exchange to close, and the archiver's pass after it.
    const m = await waitFor(
      async () => {
        const [row] = await stack.db.sql`
          SELECT exchange, partition_start, partition_end, path, rows, sha256 FROM archive_manifest
          WHERE dataset = 'trades' AND rows > 0 ORDER BY partition_start, exchange LIMIT 1`;
        return row;
      },
      { timeoutMs: 180_000, what: "a verified trades partition in archive_manifest" },
    );
    expect(String(m.path)).toMatch(
      /^trades\/exchange=\w+\/date=[\d-]+\/hour=\d\d\/part-[\d-]+T\d\d-\d\d\.[0-9a-f]{16}\.parquet$/,
    );
    const file = join(archiveDir, String(m.path));
    const bytes = new Uint8Array(readFileSync(file));
    expect(sha256Of(bytes)).toBe(String(m.sha256));
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    const [[fileRows, fileIds] = []] = (
      await duck.runAndReadAll(`SELECT count(*)::BIGINT, sum(trade_id)::VARCHAR FROM read_parquet('${file}')`)
    ).getRows();
    duck.closeSync();
    const [db] = await stack.db.sql`SELECT count(*)::bigint AS n, sum(trade_id)::text AS ids FROM trades
      WHERE exchange = ${m.exchange} AND time >= ${m.partition_start} AND time < ${m.partition_end}`;
    expect(Number(fileRows)).toBe(Number(m.rows));
    expect(Number(fileRows)).toBe(Number(db?.n));
    expect(String(fileIds)).toBe(String(db?.ids));

    // Analytics over [stack start, a few seconds ago): archived minutes from Parquet, the rest from Postgres.
    const api = stack.targets.find((t) => t.job === "api")?.address;
    // `to` lies past the archived minute (so the range straddles the seam) and 10 s in the past (trades stamped
    // before it have landed).
    const end = new Date(m.partition_end).getTime();
    await waitFor(() => Date.now() > end + 15_000, {
      timeoutMs: 30_000,
      what: "15 s past the archived minute",
    });
    const from = new Date(
      Math.min(Math.floor(startedAt.getTime() / 60_000) * 60_000, new Date(m.partition_start).getTime()),
    );
    const to = new Date(Math.floor((Date.now() - 10_000) / 1000) * 1000);
    const res = await fetch(
      `http://${api}/api/analytics/ohlcv?from=${from.toISOString()}&to=${to.toISOString()}&interval=1d`,
    );
    if (res.status !== 200) throw new Error(`analytics answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as {
      items: { exchange: string; symbol: string; trades: number }[];
      sources: { archivedFiles: number; databaseRows: number };
    };
    expect(body.sources.archivedFiles).toBeGreaterThan(0);
    expect(body.sources.databaseRows).toBeGreaterThan(0);
    const [pg] = await stack.db
      .sql`SELECT count(*)::int AS n FROM trades WHERE time >= ${from} AND time < ${to}`;
    expect(body.items.reduce((a, r) => a + r.trades, 0)).toBe(pg?.n);
  }, 240_000);
});
