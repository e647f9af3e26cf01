// The database side against a real Postgres: exactly-once rows, every column written, book changes and the
// relay position committed with their rows, spooling while the database is away, replay.
import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getTableColumns } from "drizzle-orm";
import { type FreshDatabase, freshDatabase, waitFor } from "../lib/testing.ts";
import {
  Exchange,
  FLAG_ASK,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  FrameOffset,
  Kind,
  Status,
} from "../schema/frame.ts";
import { type Bridge, startBridge } from "./bridge.ts";
import { loadBridgeConfig } from "./config.ts";
import { BridgeMetrics } from "./metrics.ts";
import { readRelayPositions, resumeFrom } from "./sink/positions.ts";
import { PostgresSink } from "./sink/postgres.ts";
import { Spool } from "./sink/spool.ts";
import { COPY_TABLES, TABLE_NAMES } from "./sink/tables.ts";
import { BatchWriter } from "./sink/writer.ts";
import { TcpProxy } from "./tcp-proxy-fixture.ts";
import { Frames, memoryLogger } from "./testing.ts";

let db: FreshDatabase;
const dirs: string[] = [];

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_bridge_db" });
});
afterAll(async () => {
  await db.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(async () => {
  await db.sql.unsafe(`TRUNCATE ${TABLE_NAMES.join(", ")}, relay_positions`);
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
  return await startBridge({ config, log: memoryLogger() });
}

const tradeCount = async () => Number((await db.sql`SELECT count(*)::int AS n FROM trades`)[0]!.n);
const tradesAre = (n: number, timeoutMs = 15_000) =>
  waitFor(async () => (await tradeCount()) === n, { timeoutMs, what: `${n} trades stored` });
const idle = (b: Bridge) => waitFor(() => b.writer!.idle, { timeoutMs: 15_000, what: "the writer idle" });

function trades(from: number, to: number): Frames {
  const f = new Frames();
  for (let id = from; id <= to; id++)
    f.trade(Exchange.Binance, 4, id, 9000012 + id, 123456 + id, id % 2 ? 0x10 : 0x20, 1.7e18);
  return f;
}

test("every trade is stored once, even when the same frames are replayed, with exact values", async () => {
  await using b = await bridgeOn(db.url, spoolDir());
  trades(1, 2000).feed(b.onFrame);
  b.sealRows();
  await tradesAre(2000);
  // A reconnect replays frames the bridge already stored, mixed with new ones.
  trades(1, 2500).feed(b.onFrame);
  b.sealRows();
  await tradesAre(2500);
  await idle(b);
  expect(b.metrics.rowsWritten.trades.value).toBe(2500);
  expect(b.metrics.rowsDuplicate.trades.value).toBe(2000);
  const [row] = await db.sql`
    SELECT price::text, size::text, side, trade_id::text, seq, recv_ns::text, exchange, instrument_id,
           to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS time
    FROM trades WHERE trade_id = 7`;
  const f = trades(7, 7);
  const view = new DataView(f.bytes().buffer);
  const tsExchange = view.getBigInt64(FrameOffset.tsExchange, true);
  expect(row).toEqual({
    price: "90000.19",
    size: "0.00123463",
    side: "buy",
    trade_id: "7",
    seq: "7",
    recv_ns: view.getBigInt64(FrameOffset.tsRecv, true).toString(),
    exchange: 3,
    instrument_id: 4,
    time:
      new Date(Number(tsExchange / 1_000_000n)).toISOString().replace("T", " ").slice(0, 23) +
      String((tsExchange / 1000n) % 1000n).padStart(3, "0"),
  });
});

/** One frame of every kind that makes a row, for an instrument with both BBO sides. */
function everyKind(): Frames {
  const at = { exchange: Exchange.Coinbase, instrument: 1, tsExchange: 1.7e18, tsRecv: 1.7e18 + 5000 };
  return new Frames()
    .trade(Exchange.Coinbase, 1, 11, 5_000_012, 3, 0x10, 1.7e18)
    .add({ kind: Kind.Status, flags: Status.Gap << 4, id: 41, price: 3, seq: 12, ...at })
    .add({ kind: Kind.Bbo, price: 5_000_000, size: 2, seq: 13, ...at })
    .add({ kind: Kind.Bbo, flags: FLAG_ASK | FLAG_END, price: 5_000_100, size: 4, seq: 14, ...at })
    .add({
      kind: Kind.BookLevel,
      flags: FLAG_SNAPSHOT | FLAG_BEGIN | FLAG_END,
      id: 99,
      price: 4_999_900,
      size: 7,
      seq: 15,
      ...at,
    });
}

test("every column of every table the bridge writes is written (the COPY lists come from the tables)", async () => {
  await using b = await bridgeOn(db.url, spoolDir(), { BRIDGE_BOOK_SAMPLE_MS: "3600000" });
  everyKind().feed(b.onFrame);
  expect(b.router.sampleBookTops()).toBe(1);
  b.sealRows();
  await idle(b);
  for (const name of TABLE_NAMES) {
    const columns = Object.values(getTableColumns(COPY_TABLES[name])).map((c) => c.name);
    const rows = await waitFor(
      async () => {
        const got = await db.sql.unsafe(`SELECT row_to_json(t) AS r FROM "${name}" t`);
        return got.length > 0 && got;
      },
      { what: `a row in ${name}` },
    );
    expect(rows.length).toBe(1);
    const row = rows[0]!.r as Record<string, unknown>;
    expect(Object.keys(row).sort()).toEqual([...columns].sort());
    for (const c of columns)
      expect({ column: `${name}.${c}`, value: row[c] ?? null }).not.toEqual({
        column: `${name}.${c}`,
        value: null,
      });
  }
  const [change] = await db.sql`
    SELECT exchange, instrument_id, flags, price::text, size::text, update_id::text, seq, recv_ns::text FROM book_changes`;
  expect(change).toEqual({
    exchange: Exchange.Coinbase,
    instrument_id: 1,
    flags: FLAG_SNAPSHOT | FLAG_BEGIN | FLAG_END,
    price: "49999",
    size: "0.00000007",
    update_id: "99",
    seq: "15",
    recv_ns: BigInt(1.7e18 + 5000).toString(),
  });
});

test("the relay position per exchange is committed with the rows it covers and read back after a restart", async () => {
  const spool = spoolDir();
  {
    await using b = await bridgeOn(db.url, spool);
    everyKind().feed(b.onFrame);
    trades(1, 40).feed(b.onFrame);
    b.sealRows();
    await tradesAre(41);
    await idle(b);
  }
  const tradeView = new DataView(trades(40, 40).bytes().buffer);
  expect(await readRelayPositions(db.sql)).toEqual([
    { exchange: Exchange.Coinbase, seq: 15, recvNs: BigInt(1.7e18 + 5000) },
    { exchange: Exchange.Binance, seq: 40, recvNs: tradeView.getBigInt64(FrameOffset.tsRecv, true) },
  ]);
  // The database consumer's filter line asks the relay for the frame after each, and new exchanges from then.
  expect(resumeFrom(await readRelayPositions(db.sql))).toEqual({
    from: { coinbase: 16, binance: 41 },
    fromTime: [BigInt(1.7e18 + 5000), tradeView.getBigInt64(FrameOffset.tsRecv, true)]
      .reduce((a, b) => (a > b ? a : b))
      .toString(),
  });
  expect(resumeFrom([])).toEqual({ fromTime: "0" });
  // Only frames with rows move it: a BBO (sampled, not replayed) and a heartbeat do not.
  await using again = await bridgeOn(db.url, spool);
  new Frames()
    .add({
      kind: Kind.Status,
      flags: Status.Heartbeat << 4,
      exchange: Exchange.Binance,
      instrument: 0,
      seq: 41,
      tsRecv: 1.8e18,
    })
    .feed(again.onFrame);
  again.sealRows();
  await idle(again);
  expect((await readRelayPositions(db.sql)).find((p) => p.exchange === Exchange.Binance)?.seq).toBe(40);
});

test("a batch is one transaction: when one table's rows are refused, no row and no position of it is stored", async () => {
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
  const good = Buffer.from("2024-01-01 00:00:00+00\t3\t4\t1\t1.5\t2\tbuy\t1\t1\n");
  const badEvent = Buffer.from("not a time\t3\t4\tgap\t1\t1\t1\n");
  const position = { exchange: 3, seq: 1, recvNs: 1n };
  writer.enqueue({
    parts: [
      { table: "trades", rows: 1, data: good },
      { table: "feed_events", rows: 1, data: badEvent },
    ],
    positions: [position],
  });
  const second = Buffer.from("2024-01-01 00:00:01+00\t3\t4\t2\t1.5\t2\tbuy\t2\t2\n");
  writer.enqueue({
    parts: [{ table: "trades", rows: 1, data: second }],
    positions: [{ ...position, seq: 2, recvNs: 2n }],
  });
  await tradesAre(1);
  await writer.close(1000);
  expect((await db.sql`SELECT trade_id::int AS id FROM trades`).map((r) => r.id)).toEqual([2]);
  expect(await readRelayPositions(db.sql)).toEqual([{ exchange: 3, seq: 2, recvNs: 2n }]);
  expect(metrics.rowsRejected.value).toBe(2);
  const rejected = readdirSync(join(dir, "rejected"));
  expect(rejected.some((n) => n.endsWith(".error.txt"))).toBe(true);
  expect(metrics.dbErrors("22007").value).toBe(1); // invalid_datetime_format
});

test("while the database is unreachable batches spool to disk, and replay in full when it is back", async () => {
  await using proxy = await startProxy();
  const spool = spoolDir();
  await using b = await bridgeOn(proxy.url, spool);
  trades(1, 1000).feed(b.onFrame);
  b.sealRows();
  await tradesAre(1000);

  await proxy.stop();
  trades(1001, 4000).feed(b.onFrame);
  b.sealRows();
  await waitFor(() => b.metrics.spoolBytes.value > 0, { timeoutMs: 15_000, what: "bytes in the spool" });
  await waitFor(() => b.metrics.rowsQueued.trades.value === 4000, {
    timeoutMs: 15_000,
    what: "4000 rows queued",
  });
  expect(readdirSync(spool).some((n) => n.endsWith(".batches"))).toBe(true);
  expect(await tradeCount()).toBe(1000);
  // Counted by error code (ECONNREFUSED, CONNECTION_CLOSED, ECONNRESET... depending on the moment of the cut).
  const dbErrors = [
    ...b.metrics.registry.render().matchAll(/tapewire_bridge_db_errors_total\{code="[^"]+"\} (\d+)/g),
  ];
  expect(dbErrors.reduce((sum, m) => sum + Number(m[1]), 0)).toBeGreaterThan(0);

  await proxy.start();
  await tradesAre(4000);
  await idle(b);
  expect(b.metrics.spoolFiles.value).toBe(0);
  expect(readdirSync(spool).filter((n) => n.endsWith(".batches"))).toEqual([]);
  expect((await readRelayPositions(db.sql))[0]?.seq).toBe(4000);
});

test("rows spooled at shutdown while the database is away are replayed by the next run, position included", async () => {
  await using proxy = await startProxy();
  await proxy.stop();
  const spool = spoolDir();
  {
    await using first = await bridgeOn(proxy.url, spool, { BRIDGE_SHUTDOWN_MS: "200" });
    trades(1, 3000).feed(first.onFrame);
  }
  expect(readdirSync(spool).filter((n) => n.endsWith(".batches")).length).toBeGreaterThan(0);
  expect(await tradeCount()).toBe(0);

  await using second = await bridgeOn(db.url, spool);
  await tradesAre(3000);
  await idle(second);
  expect(readdirSync(spool).filter((n) => n.endsWith(".batches"))).toEqual([]);
  expect((await readRelayPositions(db.sql))[0]?.seq).toBe(3000);
});

test("status frames become feed events (heartbeats excluded); BBOs are sampled into book_tops", async () => {
  await using b = await bridgeOn(db.url, spoolDir(), { BRIDGE_BOOK_SAMPLE_MS: "3600000" });
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
  const events = await waitFor(
    async () => {
      const rows = await db.sql`SELECT exchange, instrument_id, event, detail, count, seq FROM feed_events`;
      return rows.length === 1 && rows;
    },
    { what: "one feed event" },
  );
  expect(events[0]).toEqual({
    exchange: 1,
    instrument_id: 1,
    event: "gap",
    detail: "41",
    count: "3",
    seq: "9",
  });
  const tops = await waitFor(
    async () => {
      const rows = await db.sql`SELECT bid_price::text, bid_size::text, ask_price, ask_size FROM book_tops`;
      return rows.length === 1 && rows;
    },
    { what: "one book top" },
  );
  // SHIB-USD: 9 price decimals, 5 size decimals; an ask of size 0 is an empty side (NULL).
  expect(tops[0]).toEqual({ bid_price: "0.000012345", bid_size: "1", ask_price: null, ask_size: null });
});

/** A TCP proxy in front of the test database: stop() makes it unreachable, start() brings it back. */
async function startProxy() {
  const proxy = new TcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
  await proxy.start();
  const url = new URL(db.url);
  url.port = String(proxy.port);
  return Object.assign(proxy, { url: url.toString(), [Symbol.asyncDispose]: () => proxy.stop() });
}
