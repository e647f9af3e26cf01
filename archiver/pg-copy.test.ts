// The archiver's own COPY reader: the same bytes as postgres.js, SCRAM-SHA-256 against the embedded Postgres of
// `bun run dev` (which asks for a password), a wrong password and a bad statement refused with the server's
// reason, and an exported snapshot honoured (rows committed after it are not copied); the pool of kept connections
// (the API's live rows): one backend for COPY after COPY, each in its own snapshot, and a connection that failed
// or that the server closed not reused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type FreshDatabase, freshDatabase, waitFor } from "../lib/testing.ts";
import { startEmbeddedPostgres } from "../scripts/embedded-pg.ts";
import { copyToFile } from "./copy-out.ts";
import { copyOutToFile, PgCopyError, PgCopyPool, rawCopySupported } from "./pg-copy.ts";

const tmp = mkdtempSync(join(tmpdir(), "tw-pg-copy-"));
chmodSync(tmp, 0o755); // as root the embedded server runs as another user, which must reach its directory
let db: FreshDatabase;

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_pg_copy" });
  await db.sql.unsafe(`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
    SELECT timestamptz '2026-11-01 00:00:00+00' + i * interval '1.5 ms', 1 + i % 3, 1, i, 90000.5 + i % 7, '0.00000001',
      CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END, i, 1793491200000000000 + i FROM generate_series(1, 50000) i`);
});
afterAll(async () => {
  await db?.drop();
  await rm(tmp, { recursive: true, force: true });
}, 60_000);

describe("pg-copy", () => {
  test("copies the same bytes as postgres.js, and says how many rows", async () => {
    const statement = "COPY (SELECT * FROM trades ORDER BY trade_id) TO STDOUT (FORMAT csv, NULL '\\N')";
    const ours = join(tmp, "ours.csv");
    const theirs = join(tmp, "theirs.csv");
    expect(await copyOutToFile(db.url, statement, ours)).toBe(50_000);
    await db.sql.begin(async (tx) => {
      await tx`SET LOCAL TimeZone = 'UTC'`;
      await copyToFile(tx, statement, theirs);
    });
    expect(readFileSync(ours).equals(readFileSync(theirs))).toBe(true);
    // Without the fsync (the analytics' scratch files): the same bytes, from both readers.
    const oursNotSynced = join(tmp, "ours-not-synced.csv");
    const theirsNotSynced = join(tmp, "theirs-not-synced.csv");
    expect(await copyOutToFile(db.url, statement, oursNotSynced, { durable: false })).toBe(50_000);
    await db.sql.begin(async (tx) => {
      await tx`SET LOCAL TimeZone = 'UTC'`;
      await copyToFile(tx, statement, theirsNotSynced, { durable: false });
    });
    expect(readFileSync(oursNotSynced).equals(readFileSync(ours))).toBe(true);
    expect(readFileSync(theirsNotSynced).equals(readFileSync(ours))).toBe(true);
  });

  test("joins an exported snapshot: rows committed after it are not copied", async () => {
    const other = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      const copied = await db.sql.begin("isolation level repeatable read read only", async (tx) => {
        const [snap] = await tx`SELECT pg_export_snapshot() AS id`;
        await other`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
          VALUES ('2026-11-02T00:00:00Z', 1, 1, 9999999, 1, 1, 'buy', 1, 1)`;
        return copyOutToFile(db.url, "COPY trades TO STDOUT", join(tmp, "snap.csv"), {
          snapshot: String(snap?.id),
        });
      });
      expect(copied).toBe(50_000);
      expect(await copyOutToFile(db.url, "COPY trades TO STDOUT", join(tmp, "now.csv"))).toBe(50_001);
    } finally {
      await other.end();
    }
  });

  test("the pool: COPY after COPY on one kept backend, each in its own snapshot; one that failed or was closed is replaced; close ends it", async () => {
    const pool = new PgCopyPool(db.url, 2, "tw-copy-pool-test");
    const other = postgres(db.url, { max: 1, onnotice: () => {} });
    const out = join(tmp, "pool.csv");
    const pids: number[] = [];
    let inserted = 0;
    // Two COPYs of the backend's pid and the trades' count, each in a snapshot exported before a new row.
    const copyInSnapshot = async (statement: string) =>
      db.sql.begin("isolation level repeatable read read only", async (tx) => {
        const [snap] = await tx`SELECT pg_export_snapshot() AS id`;
        await other`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
          VALUES ('2026-11-03T00:00:00Z', 2, 1, ${8_000_000 + inserted++}, 1, 1, 'buy', 1, 1)`;
        const rows = await pool.copyToFile(statement, out, String(snap?.id));
        return [rows, readFileSync(out, "utf8")] as const;
      });
    const state =
      "COPY (SELECT pg_backend_pid(), (SELECT count(*) FROM trades), current_setting('TimeZone')) TO STDOUT";
    try {
      const [before] = await db.sql`SELECT count(*)::int AS n FROM trades`;
      for (let i = 0; i < 3; i++) {
        const [rows, text] = await copyInSnapshot(state);
        const [pid, count, zone] = text.trim().split("\t");
        expect([rows, Number(count), zone]).toEqual([1, Number(before?.n) + i, "UTC"]);
        pids.push(Number(pid));
      }
      expect(new Set(pids).size).toBe(1);
      // A failed COPY: refused with the server's reason, its connection not kept.
      await expect(copyInSnapshot("COPY nowhere TO STDOUT")).rejects.toThrow(/42P01/);
      const [, afterError] = await copyInSnapshot(state);
      expect(Number(afterError.split("\t")[0])).not.toBe(pids[0]);
      // The kept connection closed by the server: the next COPY runs on a new one, with the right rows.
      const kept = Number(afterError.split("\t")[0]);
      await other`SELECT pg_terminate_backend(${kept})`;
      await waitFor(
        async () =>
          (await other`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${kept}`)[0]?.n === 0,
        { timeoutMs: 10_000, what: "the kept backend gone" },
      );
      const [n] = await db.sql`SELECT count(*)::int AS n FROM trades`;
      const [rows, text] = await copyInSnapshot(state);
      expect([rows, Number(text.split("\t")[1])]).toEqual([1, n?.n]);
      expect(Number(text.split("\t")[0])).not.toBe(kept);
      pool.close();
      await waitFor(
        async () =>
          (
            await other`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tw-copy-pool-test'`
          )[0]?.n === 0,
        { timeoutMs: 10_000, what: "the pool's connections closed" },
      );
    } finally {
      pool.close();
      await other`DELETE FROM trades WHERE trade_id >= 8000000 AND trade_id < 8000100`;
      await other.end();
    }
  });

  test("a bad statement is refused with the server's reason", async () => {
    await expect(copyOutToFile(db.url, "COPY nowhere TO STDOUT", join(tmp, "x.csv"))).rejects.toThrow(
      /42P01.*"nowhere" does not exist/,
    );
    expect(() => rawCopySupported("postgres://u@h/db?sslmode=require")).not.toThrow();
    expect(rawCopySupported("postgres://u@h/db?sslmode=require")).toBe(false);
    await expect(
      copyOutToFile("postgres://u@127.0.0.1/db?sslmode=verify-full", "COPY t TO STDOUT", join(tmp, "y.csv")),
    ).rejects.toBeInstanceOf(PgCopyError);
  });

  test("SCRAM-SHA-256 against the embedded Postgres of bun run dev; a wrong password is refused", async () => {
    const pg = await startEmbeddedPostgres({
      dataDir: join(tmp, "pg"),
      port: 0,
      database: "tw_copy",
      onLog: () => {},
    });
    try {
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      await sql`CREATE TABLE t (x int)`;
      await sql`INSERT INTO t SELECT generate_series(1, 1000)`;
      await sql.end();
      const out = join(tmp, "scram.csv");
      expect(await copyOutToFile(pg.url, "COPY t TO STDOUT", out)).toBe(1000);
      expect(readFileSync(out, "utf8").split("\n")[999]).toBe("1000");
      const wrong = new URL(pg.url);
      wrong.password = "not-the-password";
      await expect(copyOutToFile(wrong.toString(), "COPY t TO STDOUT", out)).rejects.toThrow(
        /password authentication failed/,
      );
    } finally {
      await pg.stop();
    }
  }, 120_000);
});
