// Test kit: the real path from the relay to the Parquet archive, for backtest tests. The bridge's database
// writer (its own resuming relay consumer, as bridge/main.ts runs it) stores what the relay journaled, then
// the archiver exports every closed partition, verified, into `root` and records it in archive_manifest.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type postgres from "postgres";
import { Archiver } from "../../archiver/archiver.ts";
import { openExportDuck } from "../../archiver/duck.ts";
import { BridgeMetrics } from "../../bridge/metrics.ts";
import { RowEncoder } from "../../bridge/rows.ts";
import { createDbRouter } from "../../bridge/sink/db-consumer.ts";
import { DB_CONSUMER, readRelayPositions, resumeFrom } from "../../bridge/sink/positions.ts";
import { PostgresSink } from "../../bridge/sink/postgres.ts";
import { Spool } from "../../bridge/sink/spool.ts";
import { BatchWriter } from "../../bridge/sink/writer.ts";
import { createLogger } from "../../lib/log.ts";
import { waitFor } from "../../lib/testing.ts";
import { connectRelayConsumer } from "../../relay/index.ts";
import { loadRegistry } from "../../schema/instruments.ts";

export interface ArchiveFromRelayOptions {
  sql: postgres.Sql;
  databaseUrl: string;
  /** The relay's consumer socket. */
  relayOut: string;
  /** The last collector seq per exchange code that must be stored before exporting. */
  until: Record<number, number>;
  /** Archive root. */
  root: string;
  /** The archiver's clock: every partition before it is closed. */
  now: Date;
  timeoutMs?: number;
}

export interface ManifestRow {
  dataset: string;
  exchange: number;
  path: string;
  rows: number;
}

/** Store the relay's journal through the bridge's writer, then export it with the archiver. */
export async function archiveFromRelay(opts: ArchiveFromRelayOptions): Promise<ManifestRow[]> {
  const registry = loadRegistry({});
  const log = createLogger(
    { test: "backtest-archive" },
    process.env.DEBUG_BACKTEST_KIT ? console.error : () => {},
  );
  const metrics = new BridgeMetrics();
  const spoolDir = mkdtempSync(join(tmpdir(), "tw-bt-spool-"));
  const writer = new BatchWriter(
    new PostgresSink(opts.databaseUrl),
    new Spool(spoolDir),
    { maxQueuedBytes: 1 << 24 },
    metrics,
    log,
  );
  await writer.start();
  const rows = new RowEncoder(100_000, (b) => writer.enqueue(b));
  const router = createDbRouter({ registry, bookDepths: { kraken: 10, other: 100 }, rows, metrics, log });
  const consumer = connectRelayConsumer({
    path: opts.relayOut,
    name: DB_CONSUMER,
    resume: true,
    startFrom: resumeFrom(await readRelayPositions(opts.sql)),
    onFrame: router.onFrame,
  });
  const timer = setInterval(() => rows.seal(), 20);
  try {
    await waitFor(
      async () => {
        const at = new Map((await readRelayPositions(opts.sql)).map((p) => [p.exchange, p.seq]));
        return Object.entries(opts.until).every(([ex, seq]) => (at.get(Number(ex)) ?? -1) >= seq);
      },
      { timeoutMs: opts.timeoutMs ?? 20_000, what: "the bridge's writer storing every frame" },
    );
  } finally {
    clearInterval(timer);
    consumer.close();
    await writer.close(5_000);
    rmSync(spoolDir, { recursive: true, force: true });
  }
  const { duck, close } = await openExportDuck();
  try {
    const archiver = new Archiver(opts.sql, duck, {
      root: opts.root,
      intervalS: 3600,
      recheckS: 7 * 86_400,
      registry,
      log,
      now: () => opts.now,
    });
    await archiver.runOnce();
    if (archiver.failures) throw new Error(`archiver: ${archiver.failures} partition exports failed`);
  } finally {
    close();
  }
  const manifest = await opts.sql<ManifestRow[]>`
    SELECT dataset, exchange::int AS exchange, path, rows::int AS rows FROM archive_manifest
    ORDER BY dataset, exchange, partition_start`;
  return [...manifest];
}
