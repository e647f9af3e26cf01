// The cash migration on a database that already holds paper trades (not only on a fresh one): existing
// orders get their quote currency from the instruments table, and the API works on them afterwards.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshDatabase, memoryLogger, type TestDatabase } from "../../bridge/testing.ts";
import { MIGRATIONS_FOLDER, migrate } from "../../schema/db/migrate.ts";

let db: TestDatabase;
let firstOnly: string;
beforeAll(async () => {
  db = await freshDatabase({ migrate: false });
  // A migrations folder as it was before the cash migration: 0000 alone.
  firstOnly = await mkdtemp(join(tmpdir(), "tw-mig-"));
  const journal = await Bun.file(join(MIGRATIONS_FOLDER, "meta", "_journal.json")).json();
  await cp(join(MIGRATIONS_FOLDER, "0000_init.sql"), join(firstOnly, "0000_init.sql"));
  await mkdir(join(firstOnly, "meta"));
  await writeFile(
    join(firstOnly, "meta", "_journal.json"),
    JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }),
  );
});
afterAll(async () => {
  await rm(firstOnly, { recursive: true, force: true });
  await db.drop();
});

test("existing orders get their currency; balances and the ledger start empty for old portfolios", async () => {
  await migrate(db.url, { log: memoryLogger(), env: {}, migrationsFolder: firstOnly });
  const [user] =
    await db.sql`INSERT INTO users (email, password_hash) VALUES ('old@example.com', 'x') RETURNING id`;
  const [pf] = await db.sql`INSERT INTO portfolios (user_id, name) VALUES (${user!.id}, 'old') RETURNING id`;
  await db.sql`INSERT INTO orders (portfolio_id, exchange, instrument_id, side, type, quantity, limit_price, status)
    VALUES (${pf!.id}, 2, 4, 'buy', 'limit', 1, 50000, 'open'), (${pf!.id}, 1, 1, 'sell', 'market', 2, NULL, 'filled')`;

  await migrate(db.url, { log: memoryLogger(), env: {} });
  const rows = await db.sql`SELECT instrument_id, currency, rested_at FROM orders ORDER BY instrument_id`;
  expect([...rows]).toEqual([
    { instrument_id: 1, currency: "USD", rested_at: null },
    { instrument_id: 4, currency: "USDT", rested_at: null },
  ]);
  const [p] = await db.sql`SELECT margin FROM portfolios`;
  expect(p!.margin).toBe(false);
  const [n] = await db.sql`SELECT count(*)::int AS n FROM cash_entries`;
  expect(n!.n).toBe(0);
});
