// The database writer resumes from the position it committed, against a real relay with its journal: rows that
// were only in memory when the writer died, and frames sent while it was away, are all stored, exactly once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { type FreshDatabase, freshDatabase, waitFor } from "../../lib/testing.ts";
import { connectRelayProducer } from "../../relay/index.ts";
import { frames, startRelayProcess, tempDir } from "../../relay/testing.ts";
import { Exchange, Kind, Status } from "../../schema/frame.ts";
import { memoryLogger } from "../testing.ts";
import { startDbWriter } from "./db-writer.testkit.ts";
import { DB_CONSUMER, readRelayPositions } from "./positions.ts";

let db: FreshDatabase;
const dir = tempDir("tw-resume-");
beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_resume" });
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

const tradeIds = async () =>
  (await db.sql`SELECT trade_id::int AS id FROM trades ORDER BY trade_id`).map((r) => r.id as number);

/** Binance BTC-USDT trades with ids (and collector seqs) from..to. */
const trades = (from: number, to: number) =>
  frames(
    Array.from({ length: to - from + 1 }, (_, i) => ({
      kind: Kind.Trade,
      flags: 0x10,
      exchange: Exchange.Binance,
      instrument: 4,
      seq: from + i,
      id: from + i,
      price: 9_000_000 + i,
      size: 1000,
      tsExchange: 1.7e18 + (from + i) * 1e6,
      tsRecv: 1.7e18 + (from + i) * 1e6,
    })),
  );

/** A database writer on its own relay consumer, as the bridge runs it; `holdRows()` keeps rows in memory. */
const startWriter = (relayOut: string, spoolDir: string) =>
  startDbWriter({ sql: db.sql, databaseUrl: db.url, relayOut, spoolDir, log: memoryLogger() });

test("after a crash the writer resumes from its committed position: nothing lost, nothing twice", async () => {
  await using relay = await startRelayProcess({ dir: join(dir, "relay") });
  const producer = await connectRelayProducer({ path: relay.inPath });
  producer.send(
    frames([
      {
        kind: Kind.Status,
        flags: Status.CollectorStart << 4,
        exchange: Exchange.Binance,
        instrument: 0,
        seq: 0,
        id: 4242,
        price: Date.now(),
      },
    ]),
  );
  const first = await startWriter(relay.outPath, join(dir, "spool-1"));
  expect(first.startFrom).toEqual({ fromTime: "0" }); // a fresh database: the whole journal
  await waitFor(() => first.consumer.connected, { what: "the first consumer connected" });
  await waitFor(() => relay.logs.some((l) => l.msg === "consumer filter set" && l.name === DB_CONSUMER), {
    what: "the relay saw the consumer's filter",
  });
  producer.send(trades(1, 1000));
  await waitFor(async () => (await tradeIds()).length === 1000, {
    timeoutMs: 15_000,
    what: "1000 trades stored",
  });

  // Rows that reach the writer but are never committed: the crash takes them.
  first.holdRows();
  const before = first.consumer.frames;
  producer.send(trades(1001, 1500));
  await waitFor(() => first.consumer.frames >= before + 500, {
    timeoutMs: 15_000,
    what: "500 frames received",
  });
  await first.close(0); // the process dies: the consumer is gone and unsealed rows with it
  const positions = await readRelayPositions(db.sql);
  expect(positions).toHaveLength(1);
  expect(await tradeIds()).toHaveLength(1000);

  // Frames sent while no writer runs.
  producer.send(trades(1501, 2000));
  await producer.drained();

  const second = await startWriter(relay.outPath, join(dir, "spool-2"));
  expect(second.startFrom.from?.binance).toBe(positions[0]!.seq + 1);
  await waitFor(async () => (await tradeIds()).length === 2000, {
    timeoutMs: 20_000,
    what: "2000 trades stored",
  });
  expect(await tradeIds()).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  // Resumed exactly at the seam: the relay sent nothing the database already had.
  await waitFor(() => second.writer.idle, { what: "the writer idle" });
  expect(second.metrics.rowsDuplicate.trades.value).toBe(0);
  expect(second.metrics.rowsWritten.trades.value).toBe(1000);
  await second.close(0);
  await producer.close();
}, 60_000);
