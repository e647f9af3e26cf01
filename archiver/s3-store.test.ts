// The archive on S3-compatible object storage, against a real S3 server: moto's standalone server (moto[server]
// 5.2.5, pinned with hashes in archiver/s3-server/requirements.txt, installed by .ci/run into .data/s3-venv)
// on an ephemeral port, reached by Bun's own S3 client with path-style requests.
import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AnalyticsService, analyticsConfig } from "../api/analytics/service.ts";
import { createLogger } from "../lib/log.ts";
import { type FreshDatabase, freshDatabase, waitFor } from "../lib/testing.ts";
import { dayPath, untaggedPath } from "../schema/archive.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { Archiver } from "./archiver.ts";
import type { CompactFaults } from "./compact.ts";
import { openExportDuck } from "./duck.ts";
import { applyRetention } from "./retention.ts";
import { S3Store } from "./s3-store.ts";
import { haveMoto, type Moto, startMoto } from "./s3-testing.ts";
import { listFiles, sha256Of } from "./store.ts";

if (!haveMoto && process.env.CI)
  throw new Error(
    ".data/s3-venv is missing: .ci/run must create it from archiver/s3-server/requirements.txt",
  );
if (!haveMoto)
  console.warn("SKIPPING S3 archive tests: .data/s3-venv/bin/moto_server is missing (see .ci/run)");

const registry = loadRegistry({});
const log = createLogger({ test: "s3" }, process.env.DEBUG_ARCHIVER ? console.error : () => {});
const H = 3_600_000;
const base = Date.UTC(2026, 10, 20, 0);
const BUCKET = "tapewire-archive";
const credentials = { accessKeyId: "test", secretAccessKey: "test", region: "us-east-1" };
let db: FreshDatabase;
let endpoint: string;
let moto: Moto | undefined;
const dirs: string[] = [];
const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), name));
  dirs.push(d);
  return d;
};

/** A store on the bucket with `cacheDir` as its cache, bounded to `maxBytes` when given. */
const store = (cacheDir: string, maxBytes?: number) =>
  new S3Store({ bucket: BUCKET, prefix: "archive", cacheDir, endpoint, ...credentials, maxBytes });

async function insertTrades(exchange: number, fromMs: number, n: number, firstId: number) {
  const rows = Array.from({ length: n }, (_, k) => {
    const t = fromMs + k * 60_000;
    return `('${new Date(t).toISOString()}', ${exchange}, 1, ${firstId + k}, ${90000 + k}.${exchange}5, 0.00${(k % 9) + 1}, 'sell', ${firstId + k}, ${t}000000)`;
  });
  await db.sql.unsafe(
    `INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns) VALUES ${rows.join(", ")}`,
  );
}

async function runArchiver(s: S3Store, nowMs: number): Promise<number> {
  const { duck, close } = await openExportDuck();
  try {
    const a = new Archiver(db.sql, duck, {
      store: s,
      databaseUrl: db.url,
      intervalS: 3600,
      recheckS: 30 * 86_400,
      registry,
      log,
      now: () => new Date(nowMs),
    });
    const n = await a.runOnce();
    expect(a.failures).toBe(0);
    return n;
  } finally {
    close();
  }
}

/** The API's analytics over the bucket's archive, with `cache` as its local cache. */
/** The API's analytics on the bucket (Bun's S3 client reads the keys from the environment). */
const s3Analytics = (cache: string) => {
  Object.assign(process.env, {
    S3_ACCESS_KEY_ID: credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  });
  return new AnalyticsService(
    db.sql,
    registry,
    analyticsConfig.read({
      ARCHIVE_DIR: `s3://${BUCKET}/archive`,
      ARCHIVE_CACHE_DIR: cache,
      ARCHIVE_S3_ENDPOINT: endpoint,
      ARCHIVE_S3_REGION: credentials.region,
    }),
  );
};

beforeAll(async () => {
  if (!haveMoto) return;
  moto = await startMoto(BUCKET);
  endpoint = moto.endpoint;
  db = await freshDatabase({ prefix: "tw_archive_s3" });
  // Three hours on kraken and coinbase (60 trades an hour each).
  for (const ex of [1, 2]) await insertTrades(ex, base, 180, ex * 10_000);
}, 90_000);

afterAll(async () => {
  moto?.stop();
  await db?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!haveMoto)("archive on S3 (moto server)", () => {
  test("partitions are uploaded, read back and verified before their manifest rows", async () => {
    const s = store(tmp("tw-s3-cache-"));
    expect(await runArchiver(s, base + 2 * H + 1)).toBe(4); // 2 closed hours × 2 exchanges
    const manifest = await db.sql`SELECT path, bytes, sha256 FROM archive_manifest ORDER BY path`;
    const objects = new Map((await s.list()).map((o) => [o.key, o.size]));
    expect(manifest.length).toBe(4);
    for (const m of manifest) {
      expect(objects.get(`archive/${m.path}`)).toBe(Number(m.bytes));
      // The object's bytes, fetched again by a client of our own, hash to the manifest's sha256.
      const object = new Bun.S3Client({ bucket: BUCKET, endpoint, ...credentials }).file(`archive/${m.path}`);
      expect(sha256Of(new Uint8Array(await object.arrayBuffer()))).toBe(String(m.sha256));
    }
    expect(await runArchiver(s, base + 2 * H + 1)).toBe(0); // nothing changed
  }, 60_000);

  test("analytics read archive (through an empty local cache) and database with every trade once", async () => {
    const cache = tmp("tw-s3-readcache-");
    const service = s3Analytics(cache);
    try {
      const range = { from: new Date(base), to: new Date(base + 3 * H), exchanges: [], instruments: [] };
      const r = await service.ohlcv(range, 3 * 3600);
      expect(r.sources.archivedFiles).toBe(4);
      expect(r.sources.databaseRows).toBe(120); // the open third hour, both exchanges
      const [pg] = await db.sql`SELECT count(*)::int AS n, sum(size)::text AS v FROM trades`;
      expect(r.result.reduce((a, c) => a + c.trades, 0)).toBe(pg?.n);
      const [m] = await db.sql`SELECT path FROM archive_manifest
        WHERE dataset = 'trades' AND exchange = 1 AND partition_start = ${new Date(base)}`;
      expect(untaggedPath(String(m?.path))).toBe(
        "trades/exchange=kraken/date=2026-11-20/hour=00/part-2026-11-20T00.parquet",
      );
      expect(existsSync(join(cache, String(m?.path)))).toBe(true); // fetched into the cache, under the archive's path
    } finally {
      service.close();
    }
  }, 60_000);

  test("retention prunes what S3 holds verified; a late row merges into the object; readers refetch it", async () => {
    const farFuture = new Date(base + 3650 * 86_400_000);
    const deleted = await applyRetention(db.sql, { days: 1, now: farFuture, log });
    expect(deleted).toBe(240); // the 4 archived hours; the unarchived third hour stays
    const [{ n } = { n: 0 }] = await db.sql`SELECT count(*)::int AS n FROM trades`;
    expect(n).toBe(120);
    // A late trade for kraken 00:00, exported by an archiver with a fresh cache: it must fetch the old file.
    await insertTrades(1, base + 30_000, 1, 99_999);
    const s = store(tmp("tw-s3-cache2-"));
    const kraken00 = async () =>
      (
        await db.sql`SELECT path, rows, sha256 FROM archive_manifest
          WHERE dataset = 'trades' AND exchange = 1 AND partition_start = ${new Date(base)}`
      )[0];
    const before = await kraken00();
    expect(await runArchiver(s, base + 2 * H + 1)).toBe(1);
    const after = await kraken00();
    expect(Number(after?.rows)).toBe(61);
    expect(after?.sha256).not.toBe(before?.sha256);
    // The merged object has a name of its own: a reader that resolved the old row still gets exactly the old
    // bytes (the old object stays for the grace), one that resolves the new row gets the new ones.
    expect(after?.path).not.toBe(before?.path);
    const reader = store(tmp("tw-s3-cache3-"));
    const old = await reader.localPath(String(before?.path), String(before?.sha256));
    expect(sha256Of(readFileSync(old))).toBe(String(before?.sha256));
    const fresh = await reader.localPath(String(after?.path), String(after?.sha256));
    expect(sha256Of(readFileSync(fresh))).toBe(String(after?.sha256));
    // A corrupted cache copy with a stale sidecar is replaced when the manifest's sha256 differs.
    writeFileSync(`${fresh}.sha256`, "0".repeat(64));
    writeFileSync(fresh, "not parquet");
    const again = await reader.localPath(String(after?.path), String(after?.sha256));
    expect(sha256Of(readFileSync(again))).toBe(String(after?.sha256));
  }, 90_000);

  test("compaction puts the day object in place; the hourly objects stay for the grace (a reader that took them opens them), across a restart, then go", async () => {
    // 2026-11-25 on coinbase: 24 closed hours (and 2026-11-26 on kraken, compacted while a reader holds its hours).
    const day = Date.UTC(2026, 10, 25);
    await insertTrades(2, day, 24 * 60, 200_000);
    await insertTrades(1, day + 24 * H, 24 * 60, 300_000);
    const compactRun = async (s: S3Store, nowMs: number, faults?: CompactFaults, graceMs = 0) => {
      const { duck, close } = await openExportDuck();
      try {
        const a = new Archiver(db.sql, duck, {
          store: s,
          databaseUrl: db.url,
          intervalS: 3600,
          recheckS: 30 * 86_400,
          registry,
          log,
          now: () => new Date(nowMs),
          compact: true,
          compactGraceMs: graceMs,
          compactFaults: faults,
        });
        await a.runOnce();
        return a.failures;
      } finally {
        close();
      }
    };
    const cache = tmp("tw-s3-compact-");
    const s = store(cache);
    // The clock at 2026-11-26 01:00: 11-25 is closed, 11-26 is not.
    await compactRun(s, day + 25 * H);
    const dayKey = dayPath("trades", "coinbase", new Date(day));
    const [row] = await db.sql`SELECT path, partition_end, rows, bytes, sha256 FROM archive_manifest
      WHERE dataset = 'trades' AND exchange = 2 AND partition_start = ${new Date(day)}`;
    expect([new Date(row?.partition_end).getTime(), Number(row?.rows)]).toEqual([day + 24 * H, 1440]);
    const objects = (await s.list()).map((o) => o.key);
    const under = (date: string, ex: string) =>
      objects.filter((k) => k.startsWith(`archive/trades/exchange=${ex}/date=${date}/`)).sort();
    expect(under("2026-11-25", "coinbase").map(untaggedPath)).toEqual([`archive/${dayKey}`]);
    expect(untaggedPath(String(row?.path))).toBe(dayKey);
    const object = new Bun.S3Client({ bucket: BUCKET, endpoint, ...credentials }).file(
      `archive/${row?.path}`,
    );
    const bytes = new Uint8Array(await object.arrayBuffer());
    expect([bytes.length, sha256Of(bytes)]).toEqual([Number(row?.bytes), String(row?.sha256)]);
    // The hourly files' cached copies went with their objects; the day file is the cache's copy.
    expect(listFiles(cache, "trades/exchange=coinbase/date=2026-11-25/hour=05/")).toEqual([]);
    expect(sha256Of(readFileSync(join(cache, String(row?.path))))).toBe(String(row?.sha256));
    // A reader with an empty cache fetches the day object and counts each trade once.
    const readCache = tmp("tw-s3-compact-read-");
    const service = s3Analytics(readCache);
    try {
      const range = { from: new Date(day), to: new Date(day + 24 * H), exchanges: [2], instruments: [] };
      const r = await service.ohlcv(range, 86_400);
      expect([r.sources.archivedFiles, r.sources.databaseRows]).toEqual([1, 0]);
      expect(r.result.reduce((a, c) => a + c.trades, 0)).toBe(1440);
    } finally {
      service.close();
    }
    // 11-26's first 23 hours as a reader takes them from the manifest, before the day is closed and compacted.
    await compactRun(s, day + 48 * H - 1000, undefined, 0);
    const taken = (
      await db.sql`SELECT path, sha256 FROM archive_manifest
        WHERE dataset = 'trades' AND exchange = 1 AND partition_start >= ${new Date(day + 24 * H)}`
    ).map((r) => ({ path: String(r.path), sha256: String(r.sha256) }));
    expect(taken.length).toBe(23);
    // 11-26 closes and is compacted (grace: an hour): the hourly objects stay, superseded.
    await compactRun(s, day + 49 * H, undefined, H);
    const nextKey = dayPath("trades", "kraken", new Date(day + 24 * H));
    const left = (await s.list()).map((o) => o.key);
    expect(left.filter((k) => k.startsWith("archive/trades/exchange=kraken/date=2026-11-26/")).length).toBe(
      25,
    );
    // The reader opens what it took, from the bucket into an empty cache: every object is still there.
    const late = store(tmp("tw-s3-compact-late-"));
    for (const f of taken) {
      const local = await late.localPath(f.path, f.sha256);
      expect(sha256Of(readFileSync(local))).toBe(f.sha256);
    }
    // A restarted archiver (fresh cache) within the grace keeps them; one whose grace is over deletes them.
    await compactRun(store(tmp("tw-s3-compact1-")), day + 49 * H + 30_000, undefined, H);
    expect(
      (await s.list()).filter((o) => o.key.startsWith("archive/trades/exchange=kraken/date=2026-11-26/"))
        .length,
    ).toBe(25);
    await compactRun(store(tmp("tw-s3-compact2-")), day + 49 * H + 60_000);
    const swept = (await s.list()).map((o) => o.key);
    expect(
      swept.filter((k) => k.startsWith("archive/trades/exchange=kraken/date=2026-11-26/")).map(untaggedPath),
    ).toEqual([`archive/${nextKey}`]);
  }, 180_000);
});

describe.skipIf(!haveMoto)("the S3 read cache, bounded (moto server)", () => {
  const KB = 1024;
  /** Four 10 KiB objects placed by an archiver's store; their archive paths (content-addressed). */
  async function objects(tag: string): Promise<{ path: string; sha256: string }[]> {
    const writer = store(tmp("tw-s3-bound-w-"));
    const out: { path: string; sha256: string }[] = [];
    for (let h = 0; h < 4; h++) {
      const local = join(writer.tmpDir(), `obj-${tag}-${h}`);
      writeFileSync(local, crypto.getRandomValues(new Uint8Array(10 * KB)));
      const [r] = await writer.placeMany([
        {
          local,
          path: `trades/exchange=kraken/date=2030-01-0${tag}/hour=0${h}/part-2030-01-0${tag}T0${h}.parquet`,
        },
      ]);
      if (!r || "error" in r) throw new Error("not placed");
      out.push({ path: r.path, sha256: r.sha256 });
    }
    return out;
  }
  const cached = (cache: string) =>
    listFiles(cache, "trades/")
      .filter((p) => p.endsWith(".parquet"))
      .sort();

  test("past ARCHIVE_CACHE_MAX_MB the least recently used copies go, never a leased one (a running query's)", async () => {
    const [f0, f1, f2, f3] = (await objects("1")) as { path: string; sha256: string }[] as [
      { path: string; sha256: string },
      { path: string; sha256: string },
      { path: string; sha256: string },
      { path: string; sha256: string },
    ];
    const cache = tmp("tw-s3-bound-r-");
    const reader = store(cache, 25 * KB);
    // A query holds f0 (oldest); f1, f2, f3 are fetched after it, one at a time.
    const query = await reader.lease([f0]);
    for (const f of [f1, f2, f3]) await reader.localPath(f.path, f.sha256);
    expect(cached(cache)).toEqual([f0.path, f3.path].sort()); // 2 × 10 KiB fit; f1 then f2 went
    expect(sha256Of(readFileSync(join(query.root, f0.path)))).toBe(f0.sha256);
    // Another process sharing the folder (its own store, a bound of one copy) cannot take f0 either.
    const other = store(cache, 10 * KB);
    expect(other.trim()).toBe(1); // f3
    expect(cached(cache)).toEqual([f0.path]);
    // A use makes a copy recent: with f0 released and f1 fetched, f1 is kept and the older one goes.
    query.release();
    await reader.localPath(f2.path, f2.sha256);
    expect(cached(cache)).toEqual([f0.path, f2.path].sort());
    await reader.localPath(f0.path, f0.sha256); // f0 used again: now f2 is the oldest
    await reader.localPath(f1.path, f1.sha256);
    expect(cached(cache)).toEqual([f0.path, f1.path].sort());
    // A lease over more than the bound holds all of it while it runs, and the bound holds again after.
    const big = await reader.lease([f0, f1, f2, f3]);
    expect(cached(cache).length).toBe(4);
    for (const f of [f0, f1, f2, f3]) expect(sha256Of(readFileSync(join(big.root, f.path)))).toBe(f.sha256);
    big.release();
    expect(existsSync(big.root)).toBe(false);
    expect(reader.trim()).toBe(2);
    expect(cached(cache).length).toBe(2);
  }, 60_000);

  test("two uses in one millisecond are no tie: the copy used last stays, whichever way the names sort", async () => {
    const [a, b, c] = (await objects("3")) as { path: string; sha256: string }[] as [
      { path: string; sha256: string },
      { path: string; sha256: string },
      { path: string; sha256: string },
    ];
    // The clock stands still, so every fetch and use below falls in one millisecond (the clean-clone CI saw
    // two in one ms). Both orders: with the old stamp (the wall clock) one of them evicted the copy just used.
    setSystemTime(new Date());
    try {
      for (const [used, other] of [
        [a, b],
        [b, a],
      ] as const) {
        const cache = tmp("tw-s3-tie-");
        const reader = store(cache, 25 * KB);
        await reader.localPath(a.path, a.sha256);
        await reader.localPath(b.path, b.sha256);
        await reader.localPath(used.path, used.sha256); // used again: now `other` is the least recent
        await reader.localPath(c.path, c.sha256);
        expect(cached(cache)).toEqual([used.path, c.path].sort());
        expect(cached(cache)).not.toContain(other.path);
      }
    } finally {
      setSystemTime();
    }
  }, 60_000);

  test("the API's cache drops copies the manifest no longer names (a compaction's hours, a re-export's old version), never one a request holds", async () => {
    const cache = tmp("tw-s3-sweep-");
    const service = s3Analytics(cache);
    try {
      const manifest = async () =>
        (await db.sql`SELECT path, sha256 FROM archive_manifest`).map((r) => ({
          path: String(r.path),
          sha256: String(r.sha256),
        }));
      const named = await manifest();
      // Copies of every file the manifest names, and of two it no longer names (superseded, still on S3
      // for the grace, or gone from it): the objects placed above.
      const reader = store(cache);
      for (const f of named) await reader.localPath(f.path, f.sha256);
      const stale = (await objects("2")).slice(0, 2);
      for (const f of stale) await reader.localPath(f.path, f.sha256);
      // A request holds one stale copy (it resolved the manifest before the swap).
      const held = await reader.lease([stale[0]!]);
      expect(await service.sweepCache()).toBe(1);
      expect(cached(cache)).toEqual([...named.map((f) => f.path), stale[0]!.path].sort());
      held.release();
      // An API's analytics request sweeps beside it when a sweep is due (at most once a minute; a new
      // service's first request): the released copy goes.
      const range = { from: new Date(base), to: new Date(base + 3 * H), exchanges: [], instruments: [] };
      const api = s3Analytics(cache);
      try {
        await api.ohlcv(range, 3600);
        await waitFor(() => !cached(cache).includes(stale[0]!.path), {
          timeoutMs: 10_000,
          what: "the sweep",
        });
      } finally {
        api.close();
      }
      expect(cached(cache)).toEqual(named.map((f) => f.path).sort());
      // The analytics still read everything the manifest names, from the cache.
      const [inRange] = await db.sql`SELECT count(*)::int AS n FROM archive_manifest
        WHERE dataset = 'trades' AND partition_start < ${new Date(base + 3 * H)} AND partition_end > ${new Date(base)}`;
      expect((await service.ohlcv(range, 3 * 3600)).sources.archivedFiles).toBe(inRange!.n);
      expect(cached(cache)).toEqual(named.map((f) => f.path).sort()); // nothing fetched again
    } finally {
      service.close();
    }
  }, 60_000);
});
