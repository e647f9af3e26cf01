// Test kit: the real path from the relay to the Parquet archive, for backtest tests. The bridge's database
// writer (its own resuming relay consumer, as bridge/main.ts runs it) stores what the relay journaled, then
// the archiver exports every closed partition, verified, into `root` and records it in archive_manifest.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type postgres from "postgres";
import { Archiver } from "../../archiver/archiver.ts";
import { openExportDuck } from "../../archiver/duck.ts";
import { startDbWriter } from "../../bridge/sink/db-writer.testkit.ts";
import { readRelayPositions } from "../../bridge/sink/positions.ts";
import { createLogger } from "../../lib/log.ts";
import { waitFor } from "../../lib/testing.ts";
import { frames } from "../../relay/testing.ts";
import { Exchange, FLAG_ASK, FLAG_BEGIN, FLAG_END, FLAG_SNAPSHOT, Kind, Status } from "../../schema/frame.ts";
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
  const spoolDir = mkdtempSync(join(tmpdir(), "tw-bt-spool-"));
  const dbWriter = await startDbWriter({
    sql: opts.sql,
    databaseUrl: opts.databaseUrl,
    relayOut: opts.relayOut,
    spoolDir,
    log: createLogger({ test: "backtest-archive" }, () => {}),
  });
  try {
    await waitFor(
      async () => {
        const at = new Map((await readRelayPositions(opts.sql)).map((p) => [p.exchange, p.seq]));
        return Object.entries(opts.until).every(([ex, seq]) => (at.get(Number(ex)) ?? -1) >= seq);
      },
      { timeoutMs: opts.timeoutMs ?? 20_000, what: "the bridge's writer storing every frame" },
    );
  } finally {
    await dbWriter.close(5_000);
    rmSync(spoolDir, { recursive: true, force: true });
  }
  return archiveDatabase(opts.sql, opts.root, opts.now);
}

/** Export every partition closed at `now` from the database to `root` with the real archiver; the manifest. */
export async function archiveDatabase(sql: postgres.Sql, root: string, now: Date): Promise<ManifestRow[]> {
  const log = createLogger({ test: "backtest-archive" }, (line) => {
    if (process.env.DEBUG_ARCHIVE_KIT) console.error(line);
  });
  const { duck, close } = await openExportDuck();
  try {
    const archiver = new Archiver(sql, duck, {
      root,
      intervalS: 3600,
      recheckS: 7 * 86_400,
      registry: loadRegistry({}),
      log,
      now: () => now,
    });
    // A partition export that fails verification is redone on the next pass, as the archiver process does.
    for (let pass = 0; ; pass++) {
      const before = archiver.failures;
      await archiver.runOnce();
      if (archiver.failures === before) break;
      if (pass === 4) throw new Error(`archiver: ${archiver.failures} partition exports failed in 5 passes`);
    }
  } finally {
    close();
  }
  const manifest = await sql<ManifestRow[]>`
    SELECT dataset, exchange::int AS exchange, path, rows::int AS rows FROM archive_manifest
    ORDER BY dataset, exchange, partition_start`;
  return [...manifest];
}

/** The market-maker backtest request over makerScenario(t0)'s window, with `over` merged in. */
export const makerBacktest = (t0: number, over: Record<string, unknown> = {}) => ({
  strategy: "market_maker",
  instrument: "BTC-USDT",
  venues: ["BINANCE"],
  from: new Date(t0 - 60_000).toISOString(),
  to: new Date(t0 + 60_000).toISOString(),
  params: { tradeSize: "0.001", maxInventory: "0.002", halfSpreadBps: 10 },
  ...over,
});

/**
 * Binance BTC-USDT (2 price, 8 size decimals; lot 0.00001) from t0 (ms): a collector start, then after FeedGuard's
 * 2 s cooldown a book whose top moves from 42000.00/42001.00 to 42100.00/42101.00 and takers both ways. The
 * market maker at 10 bps (trade size 0.001) bids 41958.50 (hit by the 41950 seller), offers 42042.50 (run
 * through by the book's move), re-quotes and offers 42142.60 (lifted by the 42150 buyer).
 */
export function makerScenario(t0: number): { bytes: Uint8Array; lastSeq: number } {
  let seq = 0;
  const f = (kind: Kind, flags: number, id: number, price: number, size: number, atMs: number) => ({
    kind,
    flags,
    exchange: Exchange.Binance,
    instrument: 4,
    seq: seq++,
    id,
    price,
    size,
    tsExchange: atMs * 1_000_000,
    tsRecv: atMs * 1_000_000,
  });
  const bytes = frames([
    { ...f(Kind.Status, Status.CollectorStart << 4, 1, 0, 0, t0), instrument: 0 },
    f(Kind.BookLevel, FLAG_SNAPSHOT | FLAG_BEGIN, 1, 4200000, 10 ** 8, t0 + 3000),
    f(Kind.BookLevel, FLAG_SNAPSHOT | FLAG_ASK | FLAG_END, 1, 4200100, 10 ** 8, t0 + 3000),
    f(Kind.Trade, 0x20, 900, 4195000, 100_000, t0 + 3100),
    f(Kind.BookLevel, 0, 2, 4200000, 0, t0 + 3200),
    f(Kind.BookLevel, FLAG_ASK, 2, 4200100, 0, t0 + 3200),
    f(Kind.BookLevel, 0, 2, 4210000, 10 ** 8, t0 + 3200),
    f(Kind.BookLevel, FLAG_ASK | FLAG_END, 2, 4210100, 10 ** 8, t0 + 3200),
    f(Kind.Trade, 0x10, 901, 4215000, 100_000, t0 + 3300),
  ]);
  return { bytes, lastSeq: seq - 1 };
}
