// ARCHIVE_SETTLE: a partition's first export waits that long after its end, so the rows the bridge is still
// writing (stamped inside it) are in the first file instead of a re-export's.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../lib/log.ts";
import { type FreshDatabase, freshDatabase } from "../lib/testing.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { Archiver } from "./archiver.ts";
import { openExportDuck } from "./duck.ts";

const H = 3_600_000;
const base = Date.UTC(2026, 10, 30, 10);
let db: FreshDatabase;
let root: string;
let duckCtx: Awaited<ReturnType<typeof openExportDuck>>;

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_archiver_settle" });
  root = mkdtempSync(join(tmpdir(), "tw-archive-settle-"));
  duckCtx = await openExportDuck();
  await db.sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
    VALUES (${new Date(base + H - 1)}, 1, 1, 1, '90000.1', '0.5', 'buy', 1, ${String(BigInt(base + H) * 1_000_000n)})`;
});

afterAll(async () => {
  duckCtx?.close();
  await db?.drop();
  rmSync(root, { recursive: true, force: true });
});

const archiver = (now: number) =>
  new Archiver(db.sql, duckCtx.duck, {
    root,
    databaseUrl: db.url,
    intervalS: 3600,
    recheckS: 86_400,
    settleS: 10,
    registry: loadRegistry({}),
    log: createLogger({ test: "settle" }, () => {}),
    now: () => new Date(now),
  });

test("a closed partition is first exported once the settle time after its end has passed", async () => {
  expect(await archiver(base + H + 5_000).runOnce()).toBe(0);
  const [none] = await db.sql`SELECT count(*)::int AS n FROM archive_manifest`;
  expect(none?.n).toBe(0);
  expect(await archiver(base + H + 10_000).runOnce()).toBe(1);
  const [row] = await db.sql`SELECT rows FROM archive_manifest WHERE dataset = 'trades'`;
  expect(Number(row?.rows)).toBe(1);
});
