// Compaction of closed days (compact.ts through the archiver's cycle), on a real Postgres and a real DuckDB:
// 24 hourly files become one verified day file and one manifest row, every row stays exactly once for the
// readers, a day that is not wholly verified waits, crashes between the steps leave nothing wrong, late rows into
// a compacted day (kept or pruned) re-export or merge the whole day, and retention deletes exactly the day.
// The replaced hourly files stay for the grace period (a reader that read the manifest before the swap opens
// them), across restarts, and are deleted once it has passed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runAnalystSql } from "../api/analytics/analyst-sql.ts";
import { loadRange } from "../api/analytics/source.ts";
import { createLogger } from "../lib/log.ts";
import { type FreshDatabase, freshDatabase, waitFor } from "../lib/testing.ts";
import { datasetByName, dayPath, untaggedPath } from "../schema/archive.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { schemaExport } from "../trader/schema-export.ts";
import { Archiver } from "./archiver.ts";
import type { CompactFaults } from "./compact.ts";
import { openExportDuck } from "./duck.ts";
import { ArchiverMetrics } from "./metrics.ts";
import { applyRetention } from "./retention.ts";
import { LocalStore, listFiles, sha256Of } from "./store.ts";

const registry = loadRegistry({});
const log = createLogger({ test: "compact" }, process.env.DEBUG_ARCHIVER ? console.error : () => {});
const H = 3_600_000;
const DAY = Date.UTC(2026, 10, 20); // 2026-11-20T00:00Z
const trades = datasetByName("trades")!;
const scales = { price: 9, size: 8 };
const DAY_FILE = dayPath("trades", "kraken", new Date(DAY));
const DATE_DIR = "trades/exchange=kraken/date=2026-11-20/";
/** Files under a folder by their partitions' paths (names carry a content tag: schema/archive.ts contentPath). */
const ls = (root: string, under: string) => listFiles(root, under).map(untaggedPath);
/** The day file's archive path (tagged) as the manifest names it. */
async function dayFile(f: Fixture): Promise<string> {
  const [r] = await f.db.sql`SELECT path FROM archive_manifest
    WHERE dataset = 'trades' AND exchange = 1 AND partition_start = ${new Date(DAY)}`;
  return String(r?.path);
}
const TRADER_PYTHON = join(import.meta.dir, "..", ".data", "trader-venv", "bin", "python");
const haveTrader = existsSync(TRADER_PYTHON);

/** The backtests' archive reader (trader/tapewire_trader/archive.py) over the manifest's files of a window. */
async function backtestRead(
  f: Fixture,
  from: number,
  to: number,
  everyFile: boolean | string[] = false,
): Promise<{ rows: number; files: string[] }> {
  const window = everyFile
    ? f.db.sql``
    : f.db.sql`AND partition_start < ${new Date(to)} AND partition_end > ${new Date(from)}`;
  // A list given: the files a reader took from the manifest earlier.
  const files = Array.isArray(everyFile)
    ? everyFile
    : (await f.db.sql`SELECT path FROM archive_manifest WHERE dataset = 'trades' ${window}`).map((r) =>
        String(r.path),
      );
  const script = `import json, sys
from nautilus_trader.model.identifiers import InstrumentId
from tapewire_trader.archive import ArchiveReader
a = json.loads(sys.argv[1])
data = ArchiveReader(a["root"], a["registry"], a["files"]).read([InstrumentId.from_str("BTC/USD.KRAKEN")], a["from"], a["to"], book=False)
print(json.dumps({"rows": data.rows, "files": data.files}))`;
  const arg = JSON.stringify({
    root: f.root,
    registry: schemaExport({}).instruments,
    files,
    from: from * 1e6,
    to: to * 1e6,
  });
  const child = Bun.spawn([TRADER_PYTHON, "-c", script, arg], {
    cwd: join(import.meta.dir, "..", "trader"),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`the trader's archive reader failed: ${err}`);
  return JSON.parse(out);
}

interface Fixture {
  db: FreshDatabase;
  root: string;
  duck: Awaited<ReturnType<typeof openExportDuck>>;
  metrics: ArchiverMetrics;
}

/** 24 hours of kraken trades on 2026-11-20 (5 per hour, two instruments) and two hours of the next day. */
async function seed(db: FreshDatabase): Promise<void> {
  await db.sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
    SELECT to_timestamp(${DAY / 1000}::bigint + (k / 5) * 3600 + (k % 5) * 600 + 7), 1, 1 + (k % 2), 1000 + k,
      (90000 + k)::numeric + 0.5, round((k + 1)::numeric / 100000000, 8), CASE WHEN k % 2 = 0 THEN 'buy' ELSE 'sell' END, k,
      (${DAY}::bigint + k * 1000) * 1000000
    FROM generate_series(0, 129) k`; // 120 on the day, 10 on the next day's 00:00 and 01:00
}

async function fixture(): Promise<Fixture> {
  const db = await freshDatabase({ prefix: "tw_compact" });
  await seed(db);
  return {
    db,
    root: mkdtempSync(join(tmpdir(), "tw-compact-")),
    duck: await openExportDuck(),
    metrics: new ArchiverMetrics(),
  };
}

async function dispose(f: Fixture | undefined): Promise<void> {
  f?.duck.close();
  await f?.db.drop();
  if (f) rmSync(f.root, { recursive: true, force: true });
}

/** An archiver at the clock `now`; the replaced files are deleted after `graceMs` (0: in the same cycle). */
const archiver = (f: Fixture, now: number, faults?: CompactFaults, compact = true, graceMs = 0) =>
  new Archiver(f.db.sql, f.duck.duck, {
    root: f.root,
    databaseUrl: f.db.url,
    intervalS: 3600,
    recheckS: 2 * 86_400,
    registry,
    log,
    metrics: f.metrics,
    now: () => new Date(now),
    compact,
    compactGraceMs: graceMs,
    compactFaults: faults,
  });

const tradeManifest = (f: Fixture) =>
  f.db
    .sql`SELECT partition_start, partition_end, path, rows::int AS rows, sha256, source_rows::int AS source_rows,
      source_fingerprint, pruned_at, verified_at, exports FROM archive_manifest
    WHERE dataset = 'trades' ORDER BY partition_start`;

/** The trade ids of one file, sorted as stored. */
async function fileIds(f: Fixture, path: string): Promise<number[]> {
  const r = await f.duck.duck.runAndReadAll(
    `SELECT trade_id FROM read_parquet('${join(f.root, path)}', hive_partitioning = false)`,
  );
  return r.getRows().map((x) => Number(x[0]));
}

/** What the analytics read over a range: the trade ids (each must appear once) and where they came from. */
async function readerIds(f: Fixture, from: number, to: number) {
  const range = await loadRange(
    f.db.sql,
    f.duck.duck,
    join(f.root, ".tmp"),
    new LocalStore(f.root),
    trades,
    { from: new Date(from), to: new Date(to), exchanges: [], instruments: [] },
    scales,
  );
  try {
    const r = await f.duck.duck.runAndReadAll(`SELECT trade_id FROM ${range.view} ORDER BY trade_id`);
    return { ids: r.getRows().map((x) => Number(x[0])), files: range.archivedFiles, live: range.liveRows };
  } finally {
    await range.drop();
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);
const metric = (f: Fixture, name: string) => {
  const line = f.metrics.registry
    .render()
    .split("\n")
    .find((l) => l.startsWith(`tapewire_${name}{dataset="trades"}`));
  return Number(line?.split(" ").at(-1) ?? 0);
};

describe("compaction", () => {
  let f: Fixture;
  let twin: Fixture | undefined;
  beforeAll(async () => {
    f = await fixture();
  }, 30_000);
  afterAll(async () => {
    await dispose(f);
    await dispose(twin);
  }, 30_000);

  test("24 hourly files become one verified day file and one manifest row; the hourly files go", async () => {
    // The day is closed at 02:00 the next day: its 24 hours are exported and, in the same cycle, compacted.
    const a = archiver(f, DAY + 26 * H);
    expect(await a.runOnce()).toBe(26);
    expect(a.failures).toBe(0);
    const rows = await tradeManifest(f);
    expect(
      rows.map((r) => [new Date(r.partition_start).toISOString(), r.rows, untaggedPath(r.path)]),
    ).toEqual([
      ["2026-11-20T00:00:00.000Z", 120, DAY_FILE],
      [
        "2026-11-21T00:00:00.000Z",
        5,
        "trades/exchange=kraken/date=2026-11-21/hour=00/part-2026-11-21T00.parquet",
      ],
      [
        "2026-11-21T01:00:00.000Z",
        5,
        "trades/exchange=kraken/date=2026-11-21/hour=01/part-2026-11-21T01.parquet",
      ],
    ]);
    const day = rows[0]!;
    expect(new Date(day.partition_end).getTime()).toBe(DAY + 24 * H);
    expect(day.pruned_at).toBeNull();
    // Source facts: the hours' facts combined, which equal Postgres's facts of the whole day.
    const [pg] = await f.db.sql`SELECT count(*)::int AS n, sum(trade_id)::text AS ids FROM trades
      WHERE time >= ${new Date(DAY)} AND time < ${new Date(DAY + 24 * H)}`;
    expect(day.source_rows).toBe(120);
    expect(String(day.source_fingerprint).split(":").slice(0, 1)).toEqual(["120"]);
    expect(String(day.source_fingerprint)).toContain(`:${pg?.ids}:`);
    // On disk: the day file alone under the date folder, its bytes the manifest's sha256, nothing left in .tmp.
    expect(ls(f.root, DATE_DIR)).toEqual([DAY_FILE]);
    const file = join(f.root, day.path);
    expect(sha256Of(readFileSync(file))).toBe(day.sha256);
    expect(day.path).toBe(DAY_FILE.replace(/\.parquet$/, `.${String(day.sha256).slice(0, 16)}.parquet`));
    expect(listFiles(f.root, ".tmp")).toEqual([]);
    // Every trade once, sorted by instrument, time, trade id; zstd; the archive's key-value metadata.
    const ids = await fileIds(f, day.path);
    expect([...ids].sort((x, y) => x - y)).toEqual(range(1000, 1120));
    const sorted = await f.duck.duck.runAndReadAll(
      `SELECT bool_and(ok) FROM (SELECT (instrument_id, time, trade_id) >= lag((instrument_id, time, trade_id)) OVER () IS NOT FALSE AS ok FROM read_parquet('${file}'))`,
    );
    expect(sorted.getRows()[0]?.[0]).toBe(true);
    const meta = await f.duck.duck.runAndReadAll(
      `SELECT decode(key) FROM parquet_kv_metadata('${file}') WHERE decode(key) LIKE 'tapewire_%' ORDER BY 1`,
    );
    expect(meta.getRows().map((r) => String(r[0]))).toEqual([
      "tapewire_archive_format",
      "tapewire_instruments",
      "tapewire_value_rule",
      "tapewire_wire_version",
    ]);
    const codec = await f.duck.duck.runAndReadAll(
      `SELECT DISTINCT compression FROM parquet_metadata('${file}')`,
    );
    expect(codec.getRows().map((r) => String(r[0]))).toEqual(["ZSTD"]);
    expect(metric(f, "archive_compactions_total")).toBe(1);
    expect(metric(f, "archive_compaction_files_removed_total")).toBe(24);
    // A second cycle has nothing to do.
    expect(await archiver(f, DAY + 26 * H + 60_000).runOnce()).toBe(0);
    expect((await tradeManifest(f)).length).toBe(3);
  }, 30_000);

  test("the same hours compacted again (another database, same rows) give the same bytes", async () => {
    twin = await fixture();
    await archiver(twin, DAY + 26 * H).runOnce();
    const [a] = await tradeManifest(f);
    const [b] = await tradeManifest(twin);
    expect(b?.path).toBe(a?.path);
    expect(b?.sha256).toBe(a?.sha256);
  }, 30_000);

  test("readers count every trade once across the compacted day, hourly files and live rows", async () => {
    // An open hour's rows (02:00 of the next day) are only in Postgres.
    await f.db
      .sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
      VALUES (${new Date(DAY + 26 * H + 5000)}, 1, 1, 5000, 91000.5, 0.001, 'buy', 5000, ${String((DAY + 26 * H) * 1e6)})`;
    const got = await readerIds(f, DAY + 12 * H, DAY + 27 * H);
    expect(got.ids).toEqual([...range(1060, 1130), 5000]);
    expect(got.files).toBe(3); // the day file and the two hourly files
    expect(got.live).toBe(1);
    // The SQL endpoint's views read the manifest's files: the day once, the next day's hours once each.
    const res = await runAnalystSql(
      f.db.sql,
      new LocalStore(f.root),
      registry,
      scales,
      { timeoutMs: 10_000, maxRows: 10, memoryMb: 256 },
      "SELECT count(*) AS n, count(DISTINCT trade_id) AS d, min(trade_id) AS lo, max(trade_id) AS hi FROM trades",
      "json",
    );
    expect(JSON.parse(String(res.body)).rows).toEqual([{ n: "130", d: "130", lo: "1000", hi: "1129" }]);
  }, 30_000);

  test.skipIf(!haveTrader)(
    "the backtests' archive reader reads windows inside and across the day file",
    async () => {
      // BTC-USD is instrument 1 (even k): 05:30–07:12 holds k = 28..36, 23:30–00:30 k = 118 and 120, 122.
      const read = async (...args: Parameters<typeof backtestRead>) => {
        const r = await backtestRead(...args);
        return { rows: r.rows, files: r.files.map(untaggedPath) };
      };
      expect(await read(f, DAY + 5.5 * H, DAY + 7.2 * H)).toEqual({ rows: 5, files: [DAY_FILE] });
      expect(await read(f, DAY + 23.5 * H, DAY + 24.5 * H)).toEqual({
        rows: 3,
        files: [DAY_FILE, "trades/exchange=kraken/date=2026-11-21/hour=00/part-2026-11-21T00.parquet"],
      });
      // Given every file, it opens only those whose span (a day for hour=all) overlaps the window.
      expect(await read(f, DAY + 24 * H, DAY + 24.5 * H, true)).toEqual({
        rows: 2,
        files: ["trades/exchange=kraken/date=2026-11-21/hour=00/part-2026-11-21T00.parquet"],
      });
    },
    60_000,
  );

  test("a late row into a compacted day re-exports the whole day from Postgres, into a new file beside the one earlier readers resolved", async () => {
    const before = (await tradeManifest(f))[0]!;
    await f.db
      .sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
      VALUES (${new Date(DAY + 5 * H + 1234)}, 1, 2, 900, 89000.5, 0.002, 'sell', 900, ${String((DAY + 5 * H) * 1e6)})`;
    // The grace: an hour (a reader resolved the manifest just before the re-export).
    expect(await archiver(f, DAY + 26 * H + 120_000, undefined, true, H).runOnce()).toBe(1);
    const rows = await tradeManifest(f);
    expect(rows.length).toBe(3); // still one row for the day: no hourly row came back
    const day = rows[0]!;
    expect([untaggedPath(day.path), day.rows, day.source_rows, day.exports]).toEqual([
      DAY_FILE,
      121,
      121,
      before.exports + 1,
    ]);
    expect(new Date(day.partition_end).getTime()).toBe(DAY + 24 * H);
    expect(day.sha256).not.toBe(before.sha256);
    expect(sha256Of(readFileSync(join(f.root, day.path)))).toBe(day.sha256);
    expect((await fileIds(f, day.path)).sort((x, y) => x - y)).toEqual([900, ...range(1000, 1120)]);
    expect((await readerIds(f, DAY, DAY + 24 * H)).ids).toEqual([900, ...range(1000, 1120)]);
    // The same name would be a rename over the file a reader resolved (sha256 and rows of the old row): the
    // new version has its own name, and the old one is intact, superseded, until the grace has passed.
    expect(day.path).not.toBe(before.path);
    expect(sha256Of(readFileSync(join(f.root, before.path)))).toBe(before.sha256);
    expect((await fileIds(f, before.path)).sort((x, y) => x - y)).toEqual(range(1000, 1120));
    expect(ls(f.root, DATE_DIR)).toEqual([DAY_FILE, DAY_FILE]);
    expect(
      (await f.db.sql`SELECT path FROM archive_superseded WHERE dataset = 'trades'`).map((r) => r.path),
    ).toEqual([before.path]);
    expect(metric(f, "archive_partitions_exported_total")).toBe(27);
    // Unchanged since: nothing more; the grace over, the old version goes.
    expect(await archiver(f, DAY + 26 * H + 180_000).runOnce()).toBe(0);
    expect(ls(f.root, DATE_DIR)).toEqual([DAY_FILE]);
    expect(existsSync(join(f.root, before.path))).toBe(false);
    expect(existsSync(join(f.root, day.path))).toBe(true);
  }, 30_000);

  test("retention deletes exactly the compacted day's rows; a late row then merges into the day file", async () => {
    // Cutoff 2026-11-21T00:30: the day is due, the next day's 00:00 hour (ends 01:00) is not.
    const now = new Date(DAY + 48 * H + 30 * 60_000);
    const deleted = await applyRetention(f.db.sql, { days: 1, now, log });
    expect(deleted).toBe(121);
    const left = await f.db.sql`SELECT trade_id FROM trades ORDER BY trade_id`;
    expect(left.map((r) => Number(r.trade_id))).toEqual([...range(1120, 1130), 5000]);
    const pruned = (await tradeManifest(f))[0]!;
    expect(pruned.pruned_at).not.toBeNull();
    // Pruned and unchanged: a cycle does nothing, and the readers still see the day once (from its file).
    expect(await archiver(f, DAY + 26 * H + 240_000).runOnce()).toBe(0);
    expect((await readerIds(f, DAY, DAY + 24 * H)).ids).toEqual([900, ...range(1000, 1120)]);
    // A late row for the pruned day: merged into the day file, which keeps every earlier row.
    await f.db
      .sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
      VALUES (${new Date(DAY + 7 * H + 99)}, 1, 1, 901, 89001.5, 0.003, 'buy', 901, ${String((DAY + 7 * H) * 1e6)})`;
    expect(await archiver(f, DAY + 26 * H + 300_000).runOnce()).toBe(1);
    const merged = (await tradeManifest(f))[0]!;
    expect([untaggedPath(merged.path), merged.rows, merged.source_rows, merged.exports]).toEqual([
      DAY_FILE,
      122,
      1, // the late row: what the database holds for the day now
      pruned.exports + 1,
    ]);
    expect((await fileIds(f, merged.path)).sort((x, y) => x - y)).toEqual([900, 901, ...range(1000, 1120)]);
    expect((await readerIds(f, DAY, DAY + 24 * H)).ids).toEqual([900, 901, ...range(1000, 1120)]);
    // Retention takes the merged row too (re-verified after the prune), then the day is settled.
    expect(await applyRetention(f.db.sql, { days: 1, now, log })).toBe(1);
    expect(await archiver(f, DAY + 26 * H + 360_000).runOnce()).toBe(0);
    expect((await readerIds(f, DAY, DAY + 24 * H)).ids).toEqual([900, 901, ...range(1000, 1120)]);
  }, 30_000);
});

describe("compaction waits", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  }, 30_000);
  afterAll(() => dispose(f));

  test("a day with an hour that is not verified stays hourly until that hour is", async () => {
    // 13:00 holds a price the archive cannot hold exactly (kraken BTC-USD: more decimals than the instrument's).
    await f.db
      .sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
      VALUES (${new Date(DAY + 13 * H + 1)}, 1, 1, 777, 90000.123456789, 0.1, 'buy', 777, ${String((DAY + 13 * H) * 1e6)})`;
    const a = archiver(f, DAY + 26 * H);
    await a.runOnce();
    expect(a.failures).toBe(1);
    const rows = await tradeManifest(f);
    expect(rows.length).toBe(25); // 23 of the day's hours and two of the next day's, no day row
    expect(rows.some((r) => String(r.path).includes("hour=all"))).toBe(false);
    expect(listFiles(f.root, DATE_DIR).length).toBe(23);
    expect(metric(f, "archive_compactions_total")).toBe(0);
    // Readers: 23 hourly files and the unverified hour's rows from Postgres, each once.
    const got = await readerIds(f, DAY, DAY + 24 * H);
    expect(got.ids).toEqual([777, ...range(1000, 1120)]);
    expect([got.files, got.live]).toEqual([23, 6]);
    // The bad row fixed: the hour is exported, and then the day is compacted in the same cycle.
    await f.db.sql`UPDATE trades SET price = 90000.1 WHERE trade_id = 777`;
    const b = archiver(f, DAY + 26 * H + 60_000);
    expect(await b.runOnce()).toBe(1);
    expect(b.failures).toBe(0);
    const after = await tradeManifest(f);
    expect(after.map((r) => r.rows)).toEqual([121, 5, 5]);
    expect(ls(f.root, DATE_DIR)).toEqual([DAY_FILE]);
  }, 30_000);

  test("an open day is never compacted; ARCHIVE_COMPACT off leaves the hours as they are", async () => {
    const rows = await tradeManifest(f);
    expect(rows.filter((r) => new Date(r.partition_start).getTime() >= DAY + 24 * H).length).toBe(2);
    const g = await fixture();
    try {
      await archiver(g, DAY + 26 * H, undefined, false).runOnce();
      expect((await tradeManifest(g)).length).toBe(26);
      expect(listFiles(g.root, DATE_DIR).length).toBe(24);
    } finally {
      await dispose(g);
    }
  }, 30_000);

  test("a day partly pruned by retention waits until all of it is pruned", async () => {
    const g = await fixture();
    try {
      await archiver(g, DAY + 26 * H, undefined, false).runOnce();
      // Cutoff 12:00 on the day: hours 00..11 pruned, 12..23 not.
      await applyRetention(g.db.sql, { days: 1, now: new Date(DAY + 36 * H), log });
      const a = archiver(g, DAY + 26 * H + 60_000);
      await a.runOnce();
      expect((await tradeManifest(g)).length).toBe(26);
      // All of it pruned: compacted, and the day row is pruned too (and not due for retention again).
      await applyRetention(g.db.sql, { days: 1, now: new Date(DAY + 48 * H), log });
      await archiver(g, DAY + 26 * H + 120_000).runOnce();
      const rows = await tradeManifest(g);
      expect(rows.length).toBe(3);
      const day = rows[0]!;
      expect([untaggedPath(day.path), day.rows, day.source_rows]).toEqual([DAY_FILE, 120, 120]);
      expect(day.pruned_at).not.toBeNull();
      expect(ls(g.root, DATE_DIR)).toEqual([DAY_FILE]);
      expect(await applyRetention(g.db.sql, { days: 1, now: new Date(DAY + 48 * H), log })).toBe(0);
      expect((await readerIds(g, DAY, DAY + 24 * H)).ids).toEqual(range(1000, 1120));
      // A late row for that pruned day merges into the day file.
      await g.db
        .sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
        VALUES (${new Date(DAY + 3 * H)}, 1, 2, 902, 89002.5, 0.004, 'sell', 902, ${String((DAY + 3 * H) * 1e6)})`;
      expect(await archiver(g, DAY + 26 * H + 180_000).runOnce()).toBe(1);
      expect((await fileIds(g, await dayFile(g))).sort((x, y) => x - y)).toEqual([902, ...range(1000, 1120)]);
      expect((await readerIds(g, DAY, DAY + 24 * H)).ids).toEqual([902, ...range(1000, 1120)]);
    } finally {
      await dispose(g);
    }
  }, 30_000);
});

describe("compaction crashes", () => {
  let f: Fixture;
  let expectedSha: string;
  beforeAll(async () => {
    f = await fixture();
    const ref = await fixture();
    try {
      await archiver(ref, DAY + 26 * H).runOnce();
      expectedSha = String((await tradeManifest(ref))[0]?.sha256);
    } finally {
      await dispose(ref);
    }
  }, 30_000);
  afterAll(() => dispose(f));

  test("a crash after the day file is placed (a temp file left too): unseen, redone with the same bytes", async () => {
    // What a crash mid-write leaves at the compaction's temp name.
    const tmp = join(f.root, ".tmp");
    mkdirSync(tmp, { recursive: true });
    const stale = join(tmp, `compact-trades-kraken-${DAY}.parquet`);
    writeFileSync(stale, "PAR1 half a file");
    const crash = new Error("crash after place");
    const a = archiver(f, DAY + 26 * H, {
      afterPlace: () => {
        throw crash;
      },
    });
    await a.runOnce();
    expect(a.failures).toBe(0); // the hours are archived; the compaction's failure is its own
    expect(metric(f, "archive_compaction_failures_total")).toBe(1);
    // The day file exists but no manifest row names it: readers see the 24 hourly files.
    expect(ls(f.root, DATE_DIR)).toContain(DAY_FILE);
    const rows = await tradeManifest(f);
    expect(rows.length).toBe(26);
    const got = await readerIds(f, DAY, DAY + 24 * H);
    expect([got.ids, got.files]).toEqual([range(1000, 1120), 24]);
    // The next cycle compacts; the temp file was overwritten and is gone; same bytes as an uninterrupted run.
    await archiver(f, DAY + 26 * H + 60_000).runOnce();
    const after = await tradeManifest(f);
    expect(after.length).toBe(3);
    expect(after[0]?.sha256).toBe(expectedSha);
    expect(existsSync(stale)).toBe(false);
    expect(ls(f.root, DATE_DIR)).toEqual([DAY_FILE]);
  }, 30_000);

  test("a crash after the commit, before the hourly files are deleted: the next start removes them", async () => {
    // The next day closed as well (its 2 hours), crashing between the commit and the deletion.
    const nextDayFile = dayPath("trades", "kraken", new Date(DAY + 24 * H));
    const nextDir = "trades/exchange=kraken/date=2026-11-21/";
    await archiver(
      f,
      DAY + 48 * H + 60_000,
      {
        afterCommit: () => {
          throw new Error("crash after commit");
        },
      },
      true,
      H,
    ).runOnce();
    const rows = await tradeManifest(f);
    expect(rows.map((r) => untaggedPath(r.path))).toEqual([DAY_FILE, nextDayFile]);
    expect(listFiles(f.root, nextDir).length).toBe(3); // the day file and the two superseded hourly files
    // Readers use the manifest: the day file only, every trade once.
    const got = await readerIds(f, DAY + 24 * H, DAY + 48 * H);
    expect([got.ids, got.files]).toEqual([range(1120, 1130), 1]);
    // A restarted archiver (a new instance; its grace is over) deletes them on its first cycle.
    const removedBefore = metric(f, "archive_compaction_files_removed_total");
    expect(await archiver(f, DAY + 48 * H + 120_000).runOnce()).toBe(0);
    expect(ls(f.root, nextDir)).toEqual([nextDayFile]);
    expect(ls(f.root, DATE_DIR)).toEqual([DAY_FILE]);
    expect(metric(f, "archive_compaction_files_removed_total")).toBe(removedBefore + 2);
  }, 30_000);
});

describe("versions no manifest row names", () => {
  test("a version a failed manifest insert left in an hour's folder goes once its day is compacted", async () => {
    const g = await fixture();
    try {
      // What a placed file whose manifest row was never written leaves (the redo had other rows: another name).
      const orphan =
        "trades/exchange=kraken/date=2026-11-20/hour=05/part-2026-11-20T05.00000000000000ab.parquet";
      mkdirSync(join(g.root, orphan, ".."), { recursive: true });
      writeFileSync(join(g.root, orphan), "PAR1 orphan");
      const a = archiver(g, DAY + 26 * H);
      await a.runOnce(); // exports and compacts the day
      expect(a.failures).toBe(0);
      expect(ls(g.root, DATE_DIR).sort()).toEqual([DAY_FILE, untaggedPath(orphan)].sort());
      await a.runOnce(); // the same archiver's next cycle sweeps the compacted day's folder
      expect(ls(g.root, DATE_DIR)).toEqual([DAY_FILE]);
      expect((await readerIds(g, DAY, DAY + 24 * H)).ids).toEqual(range(1000, 1120));
    } finally {
      await dispose(g);
    }
  }, 30_000);
});

describe("the grace period of the replaced hourly files", () => {
  let f: Fixture;
  /** The manifest's trade files as a reader takes them (loadRange, the SQL endpoint, a backtest: step one). */
  let taken: string[];
  beforeAll(async () => {
    f = await fixture();
  }, 30_000);
  afterAll(() => dispose(f));

  const superseded = async () =>
    (await f.db.sql`SELECT path FROM archive_superseded ORDER BY path`).map((r) => String(r.path));

  test("a reader that took the manifest's files just before the swap opens them after it: every trade once", async () => {
    // Exported hour by hour (compaction off): the manifest names 26 hourly files.
    await archiver(f, DAY + 26 * H, undefined, false).runOnce();
    taken = (
      await f.db.sql`SELECT path FROM archive_manifest WHERE dataset = 'trades' ORDER BY partition_start`
    ).map((r) => String(r.path));
    expect(taken.length).toBe(26);
    // Compaction runs between the reader's two steps (the grace: an hour).
    const a = archiver(f, DAY + 26 * H + 60_000, undefined, true, H);
    await a.runOnce();
    expect(a.failures).toBe(0);
    // Step two: the reader opens the files it took. They are all there, each trade once.
    const got = await f.duck.duck.runAndReadAll(
      `SELECT count(*)::INTEGER, count(DISTINCT trade_id)::INTEGER, min(trade_id)::INTEGER, max(trade_id)::INTEGER
       FROM read_parquet([${taken.map((p) => `'${join(f.root, p)}'`).join(", ")}], hive_partitioning = false)`,
    );
    expect(got.getRows()[0]).toEqual([130, 130, 1000, 1129]);
    expect((await tradeManifest(f)).map((r) => untaggedPath(r.path))).toEqual([
      DAY_FILE,
      ...taken.slice(24).map(untaggedPath),
    ]);
    expect(await superseded()).toEqual(taken.slice(0, 24));
    if (haveTrader) {
      // The backtests' reader with the list it was given before the swap: BTC-USD (even k) of the 26 hours.
      const r = await backtestRead(f, DAY, DAY + 26 * H, taken);
      expect([r.rows, r.files]).toEqual([65, taken]);
    }
    // A reader that reads the manifest now: the day file only, never the day and its hours.
    const now = await readerIds(f, DAY, DAY + 24 * H);
    expect([now.ids, now.files]).toEqual([range(1000, 1120), 1]);
    // The folder holds both meanwhile: whatever lists it instead of the manifest counts the day twice.
    expect(listFiles(f.root, DATE_DIR).length).toBe(25);
  }, 60_000);

  test("a restart within the grace keeps them (its start-up sweep too); once the grace has passed they go", async () => {
    // A restarted archiver (a new instance, whose first cycle sweeps leftovers), still within the hour.
    await archiver(f, DAY + 26 * H + 120_000, undefined, true, H).runOnce();
    expect(listFiles(f.root, DATE_DIR).length).toBe(25);
    expect((await superseded()).length).toBe(24);
    expect(metric(f, "archive_compaction_files_removed_total")).toBe(0);
    // Restarted again with a grace of 300 ms: its cycles delete them once 300 ms have passed since the swap.
    const a = archiver(f, DAY + 26 * H + 180_000, undefined, true, 300);
    await waitFor(
      async () => {
        await a.runOnce();
        return listFiles(f.root, DATE_DIR).length === 1;
      },
      { timeoutMs: 15_000, what: "the superseded hourly files deleted" },
    );
    expect(ls(f.root, DATE_DIR)).toEqual([DAY_FILE]);
    expect(await superseded()).toEqual([]);
    expect(metric(f, "archive_compaction_files_removed_total")).toBe(24);
    // Not before the grace: the swap's commit is the day row's verified_at, on the same clock.
    const [age] = await f.db.sql`SELECT extract(epoch FROM now() - verified_at) * 1000 AS ms
      FROM archive_manifest WHERE path = ${await dayFile(f)}`;
    expect(Number(age?.ms)).toBeGreaterThanOrEqual(300);
    // The hours the manifest still names (the next day's) were never touched.
    for (const p of taken.slice(24)) expect(existsSync(join(f.root, p))).toBe(true);
    expect((await readerIds(f, DAY, DAY + 26 * H)).ids).toEqual(range(1000, 1130));
  }, 60_000);

  test("a superseded file the manifest names again is never deleted (its row goes, the file stays)", async () => {
    const named = taken[24] as string; // the next day's 00:00 hour, in the manifest
    await f.db.sql`INSERT INTO archive_superseded (path, dataset, superseded_at)
      VALUES (${named}, 'trades', now() - interval '1 day')`;
    await archiver(f, DAY + 26 * H + 240_000, undefined, true, 0).runOnce();
    expect(existsSync(join(f.root, named))).toBe(true);
    expect(await superseded()).toEqual([]);
  }, 30_000);
});
