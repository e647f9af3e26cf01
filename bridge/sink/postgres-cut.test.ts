// The database connection cut in the middle of a batch's transaction, at each step (a statement in flight, COPY
// data in flight, the position upsert, the COMMIT): the write fails as retryable, the process lives on, and the
// batch written again after the database is back lands exactly once. Before the postgres.js patch
// (patches/postgres@3.4.9.patch, porsager/postgres#1208) the ROLLBACK that begin() issues itself after the
// failed query was written to the closed socket from a setImmediate: an uncaught TypeError ("null is not an
// object (evaluating 'socket.write')") that took the bridge down in the soak's database cut.
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { type FreshDatabase, freshDatabase } from "../../lib/testing.ts";
import { TcpProxy } from "../tcp-proxy-fixture.ts";
import { readRelayPositions } from "./positions.ts";
import { PostgresSink } from "./postgres.ts";
import type { Batch } from "./types.ts";

let db: FreshDatabase;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_bridge_cut" });
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
}, 30_000);
afterAll(async () => {
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUncaught);
  await db.drop();
});
beforeEach(async () => {
  uncaught.length = 0;
  await db.sql`TRUNCATE trades, relay_positions`;
});
afterEach(() => expect(uncaught.map(String)).toEqual([]));

/** Trades `from`..`to` of Binance instrument 4 as COPY text, with the position they reach. */
function batch(from: number, to: number): Batch {
  let text = "";
  for (let id = from; id <= to; id++)
    text += `2026-01-01 00:00:00.000001+00\t3\t4\t${id}\t100.5\t0.25\tbuy\t${id}\t${1_700_000_000_000_000_000n + BigInt(id)}\n`;
  return {
    parts: [{ table: "trades", rows: to - from + 1, data: new TextEncoder().encode(text) }],
    positions: [{ exchange: 3, seq: to, recvNs: 1_700_000_000_000_000_000n + BigInt(to) }],
  };
}

const stored = async () =>
  (
    await db.sql<{ n: number; distinct: number }[]>`
    SELECT count(*)::int AS n, count(DISTINCT trade_id)::int AS distinct FROM trades`
  )[0]!;

// What the client sends at each step of a batch's transaction (postgres.js extended protocol messages).
const STEPS = {
  "the COPY statement": 'COPY "trades"',
  "COPY data": "\tbuy\t",
  "the position upsert": "relay_positions",
  COMMIT: "commit",
} as const;

for (const [step, marker] of Object.entries(STEPS)) {
  test(`the connection cut while ${step} is in flight: a retryable failure, no crash, then every row once`, async () => {
    const proxy = new TcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
    await proxy.start();
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const sink = new PostgresSink(url.toString(), { timeoutMs: 10_000, connectTimeoutS: 2 });
    try {
      // The first batch on a fresh connection: every statement is sent as text, so the marker matches it
      // (a prepared statement's later runs send only its name).
      proxy.holdRepliesAfter(marker);
      let settled = false;
      const cut = sink.writeBatch(batch(1, 1000)).finally(() => {
        settled = true;
      });
      cut.catch(() => {});
      // The step's request reaches the server; its reply is held. Give it a moment to be surely in flight.
      await Bun.sleep(200);
      expect(settled).toBe(false);
      await proxy.stop();
      const error = await cut.then(
        () => null,
        (e: unknown) => e as { action?: string; code?: string },
      );
      // A cut COMMIT may have committed or not; either way the write is reported as failed, to be retried.
      expect(error?.action).toBe("retry");
      // Let every timer and immediate of the dead connection run: the crash came from a setImmediate.
      await Bun.sleep(100);
      expect(uncaught.map(String)).toEqual([]);

      await proxy.start();
      const again = await sink.writeBatch(batch(1, 1000));
      expect([0, 1000]).toContain(again.trades ?? 0);
      expect(await sink.writeBatch(batch(1001, 1200))).toEqual({ trades: 200 });
      expect(await stored()).toEqual({ n: 1200, distinct: 1200 });
      expect(await readRelayPositions(db.sql)).toEqual([
        { exchange: 3, seq: 1200, recvNs: 1_700_000_000_000_000_000n + 1200n },
      ]);
    } finally {
      await sink.close().catch(() => {});
      await proxy.stop();
    }
  }, 30_000);
}
