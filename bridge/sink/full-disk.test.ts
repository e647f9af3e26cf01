// The spool on a full disk (a real tmpfs, filled) while the database is unreachable (a cut TCP proxy): the
// writer keeps what it has in memory, and once memory is at its bound it tells its feed to stop instead of
// dropping rows; when the database is back everything is stored once and the feed is told to go on.
// Before this, the writer dropped every batch beyond twice its memory bound (bridge_rows_lost_total).
// Mounting needs root: elsewhere this file is skipped with a warning.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FreshDatabase, freshDatabase, waitFor } from "../../lib/testing.ts";
import { BridgeMetrics } from "../metrics.ts";
import { TcpProxy } from "../tcp-proxy-fixture.ts";
import { memoryLogger } from "../testing.ts";
import { Tmpfs } from "../tmpfs-fixture.ts";
import { readRelayPositions } from "./positions.ts";
import { PostgresSink } from "./postgres.ts";
import { Spool } from "./spool.ts";
import type { Batch } from "./types.ts";
import { BatchWriter } from "./writer.ts";

const base = mkdtempSync(join(tmpdir(), "tw-full-disk-"));
const { disk, error } = Tmpfs.tryMount(join(base, "disk"), "1m");
if (!disk) console.warn(`SKIPPING bridge/sink/full-disk.test.ts: cannot mount a tmpfs (${error})`);
let db: FreshDatabase;

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_bridge_full" });
}, 30_000);
afterAll(async () => {
  disk?.unmount();
  rmSync(base, { recursive: true, force: true });
  await db?.drop();
});

/** 200 trades of Binance instrument 4 per batch (about 17 KB of COPY text), with the position they reach. */
function batch(n: number): Batch {
  let text = "";
  for (let id = n * 200 + 1; id <= (n + 1) * 200; id++)
    text += `2026-01-01 00:00:00.000001+00\t3\t4\t${id}\t100.5\t0.25\tbuy\t${id}\t${1_700_000_000_000_000_000n + BigInt(id)}\n`;
  return {
    parts: [{ table: "trades", rows: 200, data: new TextEncoder().encode(text) }],
    positions: [
      { exchange: 3, seq: (n + 1) * 200, recvNs: 1_700_000_000_000_000_000n + BigInt((n + 1) * 200) },
    ],
  };
}

test.skipIf(!disk)(
  "database away and disk full: the feed is told to stop at the memory bound, no row is lost, all land once",
  async () => {
    const proxy = new TcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
    await proxy.start();
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const metrics = new BridgeMetrics();
    const maxQueuedBytes = 64 << 10;
    const writer = new BatchWriter(
      new PostgresSink(url.toString(), { connectTimeoutS: 1 }),
      new Spool(join(disk!.dir, "spool")),
      { maxQueuedBytes, retryMinMs: 20, retryMaxMs: 200 },
      metrics,
      memoryLogger(),
    );
    const told: boolean[] = [];
    writer.setPressureListener((full) => told.push(full));
    await writer.start();
    try {
      writer.enqueue(batch(0));
      await waitFor(async () => (await readRelayPositions(db.sql))[0]?.seq === 200, "the first batch stored");

      await proxy.stop();
      disk!.fill();
      // The feed: one batch every few ms while the writer takes them, like a relay consumer that stops when told.
      let n = 1;
      await waitFor(
        async () => {
          if (told.at(-1) === true) return true;
          writer.enqueue(batch(n++));
          await Bun.sleep(5);
          return false;
        },
        { timeoutMs: 20_000, what: "the writer to tell its feed to stop" },
      );
      // What the feed had in hand when told (its open batch) still comes, and is kept.
      writer.enqueue(batch(n++));
      writer.enqueue(batch(n++));
      expect(metrics.spoolErrors.value).toBeGreaterThan(0);
      expect(metrics.rowsLost.value).toBe(0);
      expect(writer.isFull).toBe(true);
      expect(metrics.writerFull.value).toBe(1);
      // Memory holds what the feed sent: it stopped at the bound plus what was in hand.
      expect(metrics.queuedBytes.value).toBeGreaterThanOrEqual(maxQueuedBytes);
      expect(metrics.queuedBytes.value).toBeLessThan(maxQueuedBytes + 4 * 18_000);

      disk!.free();
      await proxy.start();
      await waitFor(() => told.at(-1) === false && writer.idle, {
        timeoutMs: 30_000,
        what: "everything written and the feed told to go on",
      });
      const [stored] = await db.sql<{ rows: number; ids: number }[]>`
        SELECT count(*)::int AS rows, count(DISTINCT trade_id)::int AS ids FROM trades`;
      expect({ ...stored, lost: metrics.rowsLost.value }).toEqual({ rows: n * 200, ids: n * 200, lost: 0 });
      expect((await readRelayPositions(db.sql))[0]?.seq).toBe(n * 200);
      expect(told).toEqual([true, false]);
      expect(readdirSync(join(disk!.dir, "spool")).filter((f) => f.endsWith(".batches"))).toEqual([]);
    } finally {
      disk!.free();
      await proxy.start().catch(() => {});
      await writer.close(2000);
      await proxy.stop();
    }
  },
  60_000,
);
