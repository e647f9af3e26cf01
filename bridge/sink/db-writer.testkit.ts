// Test kit: the bridge's database writer on its own resuming relay consumer, wired as bridge/main.ts runs it
// (relay frames → db router → row encoder → batch writer → Postgres), for tests that store a relay's frames
// as trades and books: bridge/sink/resume.test.ts and the backtests' archive kit (api/backtests/archive.testkit.ts).
import type postgres from "postgres";
import type { Logger } from "../../lib/log.ts";
import { connectRelayConsumer, type RelayConsumer, type ResumePosition } from "../../relay/index.ts";
import { loadRegistry } from "../../schema/instruments.ts";
import { BridgeMetrics } from "../metrics.ts";
import { RowEncoder } from "../rows.ts";
import { createDbRouter } from "./db-consumer.ts";
import { DB_CONSUMER, readRelayPositions, resumeFrom } from "./positions.ts";
import { PostgresSink } from "./postgres.ts";
import { Spool } from "./spool.ts";
import { BatchWriter } from "./writer.ts";

const registry = loadRegistry({});

export interface DbWriterOptions {
  /** Where the writer's committed relay positions are read from (the resume point). */
  sql: postgres.Sql;
  databaseUrl: string;
  /** The relay's consumer socket. */
  relayOut: string;
  spoolDir: string;
  log: Logger;
}

export interface DbWriter {
  consumer: RelayConsumer;
  writer: BatchWriter;
  metrics: BridgeMetrics;
  /** Where the consumer asked the relay to resume from. */
  startFrom: ResumePosition;
  /** Stop sealing: what arrives from now on stays in memory, as in the last 100 ms before a crash. */
  holdRows(): void;
  /** Stop the consumer and close the writer within `graceMs`; 0 is a crash: unsealed rows are lost. */
  close(graceMs: number): Promise<void>;
}

/** Start a database writer that resumes from the positions committed in `sql`; rows are sealed every 20 ms. */
export async function startDbWriter(opts: DbWriterOptions): Promise<DbWriter> {
  const { log } = opts;
  const metrics = new BridgeMetrics();
  const writer = new BatchWriter(
    new PostgresSink(opts.databaseUrl),
    new Spool(opts.spoolDir),
    { maxQueuedBytes: 1 << 24 },
    metrics,
    log,
  );
  await writer.start();
  const rows = new RowEncoder(100_000, (b) => writer.enqueue(b));
  const router = createDbRouter({ registry, bookDepths: { kraken: 10, other: 100 }, rows, metrics, log });
  const startFrom = resumeFrom(await readRelayPositions(opts.sql));
  const consumer = connectRelayConsumer({
    path: opts.relayOut,
    name: DB_CONSUMER,
    resume: true,
    startFrom,
    onFrame: router.onFrame,
  });
  let sealing = true;
  const timer = setInterval(() => sealing && rows.seal(), 20);
  return {
    consumer,
    writer,
    metrics,
    startFrom,
    holdRows: () => {
      sealing = false;
    },
    async close(graceMs) {
      clearInterval(timer);
      consumer.close();
      await writer.close(graceMs);
    },
  };
}
