// The database side against a real Postgres: exactly-once trades, spooling while it is away, replay.
import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Exchange, FLAG_ASK, FLAG_END, Kind, Status } from "../schema/frame.ts";
import { type Bridge, startBridge } from "./bridge.ts";
import { loadBridgeConfig } from "./config.ts";
import { BridgeMetrics } from "./metrics.ts";
import { PostgresSink } from "./sink/postgres.ts";
import { Spool } from "./sink/spool.ts";
import { BatchWriter } from "./sink/writer.ts";
import { TcpProxy } from "./tcp-proxy-fixture.ts";
import { eventually, Frames, freshDatabase, memoryLogger, type TestDatabase } from "./testing.ts";

let db: TestDatabase;
const dirs: string[] = [];
const open: Bridge[] = [];

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  for (const b of open) await b.close();
  await db.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(async () => {
  await db.sql`TRUNCATE trades, book_tops, feed_events`;
});

function spoolDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tw-spool-"));
  dirs.push(d);
  return d;
}

async function bridgeOn(
  databaseUrl: string,
  spool: string,
  extra: Record<string, string> = {},
): Promise<Bridge> {
  const config = loadBridgeConfig({
    BRIDGE_PORT: "0",
    BRIDGE_HOST: "127.0.0.1",
    BRIDGE_METRICS_PORT: "-1",
    DATABASE_URL: databaseUrl,
    BRIDGE_SPOOL_DIR: spool,
    BRIDGE_BATCH_ROWS: "500",
    BRIDGE_DB_RETRY_MAX_MS: "200",
    ...extra,
  });
  const b = await startBridge({ config, log: memoryLogger() });
  open.push(b);
  return b;
}

const tradeCount = async () => Number((await db.sql`SELECT count(*)::int AS n FROM trades`)[0]!.n);

function trades(from: number, to: number): Frames {
  const f = new Frames();
  for (let id = from; id <= to; id++)
    f.trade(Exchange.Binance, 4, id, 9000012 + id, 123456 + id, id % 2 ? 0x10 : 0x20, 1.7e18);
  return f;
}

test("every trade is stored once, even when the same frames are replayed, with exact values", async () => {
  const b = await bridgeOn(db.url, spoolDir());
  trades(1, 2000).feed(b.onFrame);
  b.sealRows();
  await eventually(tradeCount, (n) => n === 2000);
  // A reconnect replays frames the bridge already stored, mixed with new ones.
  trades(1, 2500).feed(b.onFrame);
  b.sealRows();
  await eventually(tradeCount, (n) => n === 2500);
  await eventually(
    async () => b.writer!.idle,
    (idle) => idle,
  );
  expect(b.metrics.rowsWritten.trades.value).toBe(2500);
  expect(b.metrics.rowsDuplicate.trades.value).toBe(2000);
  const [row] = await db.sql`
    SELECT price::text, size::text, side, trade_id::text, seq, recv_ns::text, exchange, instrument_id,
           to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS time
    FROM trades WHERE trade_id = 7`;
  const f = trades(7, 7);
  const view = new DataView(f.bytes().buffer);
  expect(row).toEqual({
    price: "90000.19",
    size: "0.00123463",
    side: "buy",
    trade_id: "7",
    seq: "7",
    recv_ns: view.getBigInt64(40, true).toString(),
    exchange: 3,
    instrument_id: 4,
    time:
      new Date(Number(view.getBigInt64(32, true) / 1_000_000n)).toISOString().replace("T", " ").slice(0, 23) +
      String((view.getBigInt64(32, true) / 1000n) % 1000n).padStart(3, "0"),
  });
});

test("while the database is unreachable batches spool to disk, and replay in full when it is back", async () => {
  const proxy = new TcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
  await proxy.start();
  const url = new URL(db.url);
  url.port = String(proxy.port);
  const spool = spoolDir();
  const b = await bridgeOn(url.toString(), spool);
  trades(1, 1000).feed(b.onFrame);
  b.sealRows();
  await eventually(tradeCount, (n) => n === 1000);

  await proxy.stop();
  trades(1001, 4000).feed(b.onFrame);
  b.sealRows();
  await eventually(
    async () => b.metrics.spoolBytes.value,
    (bytes) => bytes > 0,
  );
  await eventually(
    async () => b.metrics.rowsQueued.trades.value,
    (n) => n === 4000,
  );
  expect(readdirSync(spool).some((n) => n.endsWith("-trades.copy"))).toBe(true);
  expect(await tradeCount()).toBe(1000);
  // Counted by error code (ECONNREFUSED, CONNECTION_CLOSED, ECONNRESET... depending on the moment of the cut).
  const dbErrors = [
    ...b.metrics.registry.render().matchAll(/tapewire_bridge_db_errors_total\{code="[^"]+"\} (\d+)/g),
  ];
  expect(dbErrors.reduce((sum, m) => sum + Number(m[1]), 0)).toBeGreaterThan(0);

  await proxy.start();
  await eventually(tradeCount, (n) => n === 4000);
  await eventually(
    async () => b.writer!.idle,
    (idle) => idle,
  );
  expect(b.metrics.spoolFiles.value).toBe(0);
  expect(readdirSync(spool).filter((n) => n.endsWith(".copy"))).toEqual([]);
  await proxy.stop();
});

test("rows spooled at shutdown while the database is away are replayed by the next run", async () => {
  const proxy = new TcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
  await proxy.start();
  const url = new URL(db.url);
  url.port = String(proxy.port);
  await proxy.stop();
  const spool = spoolDir();
  const first = await bridgeOn(url.toString(), spool, { BRIDGE_SHUTDOWN_MS: "200" });
  trades(1, 3000).feed(first.onFrame);
  await first.close();
  open.splice(open.indexOf(first), 1);
  expect(readdirSync(spool).filter((n) => n.endsWith(".copy")).length).toBeGreaterThan(0);
  expect(await tradeCount()).toBe(0);

  const second = await bridgeOn(db.url, spool);
  await eventually(tradeCount, (n) => n === 3000);
  await eventually(
    async () => second.writer!.idle,
    (idle) => idle,
  );
  expect(readdirSync(spool).filter((n) => n.endsWith(".copy"))).toEqual([]);
});

test("status frames become feed events (heartbeats excluded); BBOs are sampled into book_tops", async () => {
  const b = await bridgeOn(db.url, spoolDir(), { BRIDGE_BOOK_SAMPLE_MS: "3600000" });
  new Frames()
    .add({
      kind: Kind.Status,
      flags: Status.Gap << 4,
      exchange: Exchange.Kraken,
      instrument: 1,
      id: 41,
      price: 3,
      seq: 9,
      tsRecv: 1.7e18,
    })
    .add({
      kind: Kind.Status,
      flags: Status.Heartbeat << 4,
      exchange: Exchange.Kraken,
      instrument: 0,
      seq: 10,
      tsRecv: 1.7e18,
    })
    .add({
      kind: Kind.Bbo,
      exchange: Exchange.Coinbase,
      instrument: 7,
      price: 12345,
      size: 100000,
      tsExchange: 1.7e18,
    })
    .add({
      kind: Kind.Bbo,
      flags: FLAG_ASK | FLAG_END,
      exchange: Exchange.Coinbase,
      instrument: 7,
      price: 12346,
      size: 0,
      tsExchange: 1.7e18,
    })
    .feed(b.onFrame);
  expect(b.router.sampleBookTops()).toBe(1);
  expect(b.router.sampleBookTops()).toBe(0); // unchanged since the last sample
  b.sealRows();
  const events = await eventually(
    () => db.sql`SELECT exchange, instrument_id, event, detail, count, seq FROM feed_events`,
    (rows) => rows.length === 1,
  );
  expect(events[0]).toEqual({
    exchange: 1,
    instrument_id: 1,
    event: "gap",
    detail: "41",
    count: "3",
    seq: "9",
  });
  const tops = await eventually(
    () => db.sql`SELECT bid_price::text, bid_size::text, ask_price, ask_size FROM book_tops`,
    (rows) => rows.length === 1,
  );
  // SHIB-USD: 9 price decimals, 5 size decimals; an ask of size 0 is an empty side (NULL).
  expect(tops[0]).toEqual({ bid_price: "0.000012345", bid_size: "1", ask_price: null, ask_size: null });
});

test("a batch the database refuses as bad data is set aside with its error, not retried forever", async () => {
  const dir = spoolDir();
  const metrics = new BridgeMetrics();
  const writer = new BatchWriter(
    new PostgresSink(db.url),
    new Spool(dir),
    { maxQueuedBytes: 1 << 20 },
    metrics,
    memoryLogger(),
  );
  await writer.start();
  writer.enqueue({ table: "trades", rows: 1, data: Buffer.from("not a time\t3\t4\t1\t1\t1\tbuy\t1\t1\n") });
  writer.enqueue({
    table: "trades",
    rows: 1,
    data: Buffer.from("2024-01-01 00:00:00+00\t3\t4\t1\t1.5\t2\tbuy\t1\t1\n"),
  });
  await eventually(tradeCount, (n) => n === 1);
  await writer.close(1000);
  expect(metrics.rowsRejected.value).toBe(1);
  const rejected = readdirSync(join(dir, "rejected"));
  expect(rejected.some((n) => n.endsWith(".error.txt"))).toBe(true);
  expect(metrics.dbErrors("22007").value).toBe(1); // invalid_datetime_format
});
