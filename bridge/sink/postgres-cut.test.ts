// The database connection cut in the middle of a batch's transaction, at each step (a statement in flight, COPY
// data in flight, the position upsert, the COMMIT): the write fails as retryable, the process lives on, and the
// batch written again after the database is back lands exactly once. Before the postgres.js patch
// (patches/postgres@3.4.9.patch, porsager/postgres#1208) the ROLLBACK that begin() issues itself after the
// failed query was written to the closed socket from a setImmediate: an uncaught TypeError ("null is not an
// object (evaluating 'socket.write')") that took the bridge down in the soak's database cut.
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { createLogger } from "../../lib/log.ts";
import { type FreshDatabase, freshDatabase, waitFor } from "../../lib/testing.ts";
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
      // The step's request reaches the server; its reply is held. Waited for: after a fixed 200 ms, a loaded
      // machine had not sent the step yet in 2 of 40 runs, and the cut then tested an earlier step instead.
      await waitFor(() => proxy.held > 0, { timeoutMs: 10_000, what: `${step} sent, its reply held` });
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

// A client wedged by a cut: postgres.js left in a state where every query fails at once and it never reconnects
// (here forced by ending it underneath the sink). The database sees no connection and logs nothing; before the
// sink replaced its client after such a failure, the writer retried into the same dead client forever (the
// faults e2e run that wrote nothing for over 3 minutes after the Postgres cut ended looked exactly like this).
test("a client that fails without the server answering is replaced: the next write goes through", async () => {
  const sink = new PostgresSink(db.url, { timeoutMs: 10_000, connectTimeoutS: 2 });
  try {
    expect(await sink.writeBatch(batch(1, 100))).toEqual({ trades: 100 });
    await (sink as unknown as { sql: { end(o: { timeout: number }): Promise<void> } }).sql.end({
      timeout: 0,
    });
    const error = await sink.writeBatch(batch(101, 200)).then(
      () => null,
      (e: unknown) => e as { action?: string },
    );
    expect(error?.action).toBe("retry");
    expect(await sink.writeBatch(batch(101, 200))).toEqual({ trades: 100 });
    expect(await stored()).toEqual({ n: 200, distinct: 200 });
  } finally {
    await sink.close().catch(() => {});
  }
}, 30_000);

// A blackhole (no FIN, no RST, connects that hang) with a batch in flight at each step: the write is abandoned
// within the sink's deadline, and once the network is back a retry lands every row once, in bounded time.
// Before the sink ended its abandoned sessions (endOrphans), the COPY-data and position-upsert steps failed
// here: the orphaned session, still open at the server, held the relay_positions row lock (or uncommitted keys)
// and every retry timed out waiting on it, with nothing in the server's log.
for (const [step, marker] of Object.entries(STEPS)) {
  test(`a blackhole while ${step} is in flight: abandoned within the deadline, written once when it lifts`, async () => {
    const proxy = new TcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
    await proxy.start();
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const lines: string[] = [];
    const log = createLogger({}, (line) => lines.push(line));
    const sink = new PostgresSink(url.toString(), { timeoutMs: 2_000, connectTimeoutS: 1, log });
    try {
      proxy.holdRepliesAfter(marker);
      const cut = sink.writeBatch(batch(1, 1000));
      cut.catch(() => {});
      await waitFor(() => proxy.held > 0, { timeoutMs: 10_000, what: `${step} sent, its reply held` });
      proxy.blackhole();
      const started = performance.now();
      const error = await cut.then(
        () => null,
        (e: unknown) => e as { action?: string },
      );
      expect(error?.action).toBe("retry");
      expect(performance.now() - started).toBeLessThan(5_000);
      // Still dark: a retry is refused within the deadline too (a connect that is never answered).
      const dark = await sink.writeBatch(batch(1, 1000)).then(
        () => null,
        (e: unknown) => e as { action?: string },
      );
      expect(dark?.action).toBe("retry");
      proxy.lift();
      const lifted = performance.now();
      let written: number | undefined;
      while (written === undefined && performance.now() - lifted < 10_000) {
        written = await sink.writeBatch(batch(1, 1000)).then(
          (r) => r.trades ?? 0,
          () => undefined,
        );
      }
      expect([0, 1000]).toContain(written!);
      expect(await sink.writeBatch(batch(1001, 1200))).toEqual({ trades: 200 });
      expect(await stored()).toEqual({ n: 1200, distinct: 1200 });
      // The blackholed session was still open at the server (the proxy never closed it) and was ended.
      expect(lines.some((l) => l.includes("abandoned database sessions"))).toBe(true);
    } finally {
      await sink.close().catch(() => {});
      await proxy.stop();
    }
  }, 30_000);
}
