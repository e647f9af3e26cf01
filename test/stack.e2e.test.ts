// The whole stack end to end, as real processes: the simulator, three collectors, the relay and the bridge, on a
// fresh Postgres database reached through a TCP proxy the test can cut. Checked only from the outside: a
// WebSocket client on the bridge, relay consumers on the relay's out-socket, SQL, metrics and the spool folder.
// The Postgres outage runs last: it ends by stopping the collectors, so the stream has an end to count against.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { TcpProxy } from "../bridge/tcp-proxy-fixture.ts";
import { type Msg, memoryLogger, TestClient, withDatabase } from "../bridge/testing.ts";
import { waitFor } from "../lib/testing.ts";
import { connectRelayConsumer, type RelayConsumer } from "../relay/index.ts";
import { readLines } from "../relay/testing.ts";
import { migrate } from "../schema/db/migrate.ts";
import {
  EXCHANGE_IDS,
  type ExchangeName,
  frameExchange,
  frameId,
  frameInstrument,
  frameKind,
  frameStatus,
  frameTsRecv,
  Kind,
  Status,
} from "../schema/frame.ts";

const ROOT = resolve(import.meta.dir, "..");
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const EXCHANGES: readonly ExchangeName[] = ["kraken", "coinbase", "binance"];
const EVENTS_PER_SECOND = "30";

type Log = Record<string, unknown>;

/** A child process whose stderr (JSON logs) and stdout (JSON lines) are kept for waiting and for diagnosis. */
class Proc {
  readonly logs: Log[] = [];
  readonly out: Log[] = [];
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  done = false;

  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string>,
  ) {
    this.proc = Bun.spawn(["bun", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    void this.proc.exited.then(() => {
      this.done = true;
    });
    void readLines(this.proc.stderr, (line) => this.logs.push(parseLine(line)));
    void readLines(this.proc.stdout, (line) => this.out.push(parseLine(line)));
    procs.add(this);
  }

  async waitLog(msg: string, timeoutMs = 15_000): Promise<Log> {
    let hit: Log | undefined;
    await waitFor(
      () => {
        hit = this.logs.find((l) => l.msg === msg);
        if (!hit && this.done) throw new Error(`${this.name} exited: ${this.tail()}`);
        return hit !== undefined;
      },
      { what: `${this.name} to log "${msg}"`, timeoutMs },
    );
    return hit!;
  }

  tail(n = 10): string {
    return this.logs
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join("\n");
  }

  /** Signal, wait up to graceMs, then SIGKILL; resolves once the process is gone. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM", graceMs = 5_000): Promise<void> {
    if (!this.done) {
      this.proc.kill("SIGCONT"); // a stopped process cannot act on SIGTERM
      this.proc.kill(signal);
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
      await this.proc.exited;
      clearTimeout(timer);
    }
    procs.delete(this);
  }
}

function parseLine(line: string): Log {
  try {
    return JSON.parse(line) as Log;
  } catch {
    return { msg: line, raw: true };
  }
}

/** Trades seen by one relay consumer attached for the whole run (the ground truth for "nothing lost"). */
interface Tally {
  consumer: RelayConsumer;
  frames: number;
  trades: number;
  perExchange: number[];
  keys: Set<string>;
  /** Exchanges of the relay's Disconnected frames, in arrival order. */
  disconnected: number[];
  disconnects: string[];
  /** Largest (now − collector tsRecv) seen since the last reset, in ms. */
  maxLagMs: number;
}

const procs = new Set<Proc>();
const dir = mkdtempSync(join(tmpdir(), "tw-e2e-"));
const inPath = join(dir, "run", "in.sock");
const outPath = join(dir, "run", "out.sock");
const spoolDir = join(dir, "spool");
const dbName = `tw_e2e_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
const dbUrl = withDatabase(ADMIN_URL, dbName);
let dbCreated = false;
let sql: postgres.Sql;
let proxy: TcpProxy;
let simEnv: Record<string, string>;
let relay: Proc;
let relayMetricsPort = 0;
let bridge: Proc;
let bridgePort = 0;
let tally: Tally;
let client: TestClient;
const collectors: Partial<Record<ExchangeName, Proc>> = {};
const instrumentIds = new Map<string, number>();

function startCollector(exchange: ExchangeName): Proc {
  return new Proc(`collector-${exchange}`, ["collectors/main.ts", exchange], {
    ...simEnv,
    TAPEWIRE_RELAY_IN: inPath,
    [`COLLECTOR_${exchange.toUpperCase()}_METRICS_PORT`]: "0",
  });
}

function startTally(): Tally {
  const t: Tally = {
    consumer: null as unknown as RelayConsumer,
    frames: 0,
    trades: 0,
    perExchange: [0, 0, 0, 0],
    keys: new Set(),
    disconnected: [],
    disconnects: [],
    maxLagMs: 0,
  };
  t.consumer = connectRelayConsumer({
    path: outPath,
    name: "e2e-tally",
    reconnectMinMs: 10,
    reconnectMaxMs: 100,
    onFrame(view, off) {
      t.frames++;
      const kind = frameKind(view, off);
      const ex = frameExchange(view, off);
      if (kind === Kind.Trade) {
        t.trades++;
        t.perExchange[ex]!++;
        t.keys.add(`${ex}:${frameInstrument(view, off)}:${frameId(view, off)}`);
        const lag = Date.now() - frameTsRecv(view, off) / 1e6;
        if (lag > t.maxLagMs) t.maxLagMs = lag;
      } else if (kind === Kind.Status && frameStatus(view, off) === Status.Disconnected) {
        t.disconnected.push(ex);
      }
    },
    onDisconnect: (reason) => t.disconnects.push(reason),
  });
  return t;
}

function tradeKey(m: Msg): string {
  const instrument = instrumentIds.get(m.symbol);
  if (instrument === undefined) throw new Error(`unknown symbol ${m.symbol}`);
  return `${EXCHANGE_IDS[m.exchange as ExchangeName]}:${instrument}:${m.tradeId}`;
}

interface StoredTrade {
  n: number;
  price: string;
  size: string;
  side: string;
}

/** Every stored trade by (exchange, instrument, trade id), with how many rows carry that key. */
async function storedTrades(): Promise<Map<string, StoredTrade>> {
  const rows = await sql<(StoredTrade & { key: string })[]>`
    SELECT exchange || ':' || instrument_id || ':' || trade_id AS key, count(*)::int AS n,
           min(price)::text AS price, min(size)::text AS size, min(side) AS side
    FROM trades GROUP BY exchange, instrument_id, trade_id`;
  return new Map(rows.map((r) => [r.key, r]));
}

async function duplicates(): Promise<unknown[]> {
  return [
    ...(await sql`SELECT exchange, instrument_id, trade_id, count(*)::int AS n FROM trades
             GROUP BY 1, 2, 3 HAVING count(*) > 1`),
  ];
}

/** "12.3400" and "12.34" are the same number: compare decimal text without trailing zeros. */
function decimal(text: string): string {
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

async function metric(port: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : Number.NaN;
}

const trades = (from = 0) => client.messages.slice(from).filter((m) => m.type === "trade");
const sawTradesFrom = (exchanges: readonly string[], from = 0) =>
  exchanges.every((ex) => client.messages.slice(from).some((m) => m.type === "trade" && m.exchange === ex));

beforeAll(async () => {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  await admin.end();
  dbCreated = true;
  await migrate(dbUrl, { log: memoryLogger() });
  sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
  for (const r of await sql<{ id: number; symbol: string }[]>`SELECT id, symbol FROM instruments`)
    instrumentIds.set(r.symbol, r.id);

  const pg = new URL(ADMIN_URL);
  proxy = new TcpProxy(pg.hostname, Number(pg.port || 5432));
  await proxy.start();
  const viaProxy = new URL(dbUrl);
  viaProxy.hostname = "127.0.0.1";
  viaProxy.port = String(proxy.port);

  const sim = new Proc("sim", ["sim/main.ts"], {
    SIM_PORT: "0",
    SIM_SEED: "7",
    SIM_EVENTS_PER_SECOND: EVENTS_PER_SECOND,
  });
  relay = new Proc("relay", ["relay/main.ts"], {
    TAPEWIRE_RELAY_IN: inPath,
    TAPEWIRE_RELAY_OUT: outPath,
    TAPEWIRE_JOURNAL_DIR: join(dir, "journal"),
    RELAY_METRICS_PORT: "0",
  });
  const simReady = await sim.waitLog("simulator listening");
  simEnv = {
    KRAKEN_WS_URL: String(simReady.kraken),
    COINBASE_WS_URL: String(simReady.coinbase),
    BINANCE_WS_URL: String(simReady.binanceWs),
    BINANCE_REST_URL: String(simReady.binanceRest),
    KRAKEN_REST_URL: String(simReady.krakenRest),
    COINBASE_REST_URL: String(simReady.coinbaseRest),
  };
  relayMetricsPort = Number((await relay.waitLog("relay listening")).metricsPort);

  bridge = new Proc("bridge", ["bridge/main.ts"], {
    TAPEWIRE_RELAY_OUT: outPath,
    BRIDGE_PORT: "0",
    BRIDGE_HOST: "127.0.0.1",
    BRIDGE_METRICS_PORT: "-1", // /metrics is served on BRIDGE_PORT too
    DATABASE_URL: viaProxy.toString(),
    BRIDGE_SPOOL_DIR: spoolDir,
    BRIDGE_DB_RETRY_MAX_MS: "300",
  });
  bridgePort = Number((await bridge.waitLog("bridge listening")).port);
  await bridge.waitLog("relay connected");
  tally = startTally();
  // Both consumers must be on the relay before the first collector frame, or they would count different streams.
  await waitFor(() => tally.consumer.connected, { what: "the tally consumer to connect", timeoutMs: 10_000 });
  await waitFor(() => relay.logs.filter((l) => l.msg === "consumer connected").length >= 2, {
    what: "the relay to accept the bridge and the tally",
    timeoutMs: 10_000,
  });

  client = await TestClient.connect(`ws://127.0.0.1:${bridgePort}/ws`);
  const reply = await client.request({ op: "subscribe", kinds: ["trade", "status"] });
  expect(reply.type).toBe("subscribed");

  for (const ex of EXCHANGES) collectors[ex] = startCollector(ex);
}, 30_000);

afterAll(async () => {
  client?.close();
  tally?.consumer.close();
  await Promise.all([...procs].map((p) => p.stop()));
  await proxy?.stop();
  await sql?.end({ timeout: 1 });
  if (dbCreated) {
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

test("trades from all three exchanges reach a WebSocket client and are stored exactly once", async () => {
  await client.waitFor(() => sawTradesFrom(EXCHANGES), 20_000);
  const seen = trades();
  const keys = seen.map(tradeKey);
  // The bridge seals row batches every 100 ms and writes them after: wait until every trade is there.
  const stored = await waitFor(
    async () => {
      const m = await storedTrades();
      return keys.every((k) => m.has(k)) && m;
    },
    { what: "every trade the client saw in the database", timeoutMs: 15_000, intervalMs: 20 },
  );
  for (const [i, m] of seen.entries()) {
    const row = stored.get(keys[i]!)!;
    expect({
      key: keys[i],
      n: row.n,
      price: decimal(row.price),
      size: decimal(row.size),
      side: row.side,
    }).toEqual({ key: keys[i], n: 1, price: decimal(m.price), size: decimal(m.size), side: m.side });
  }
  expect(await duplicates()).toEqual([]);
}, 40_000);

test("kill -9 of the coinbase collector: others keep flowing, the outage is reported, a restart resumes without duplicates", async () => {
  await client.waitFor(() => sawTradesFrom(["coinbase"]), 20_000);
  const mark = client.messages.length;
  const old = collectors.coinbase!;
  await old.stop("SIGKILL");

  const isOutage = (m: Msg) =>
    m.type === "status" && m.exchange === "coinbase" && m.status === "disconnected" && m.symbol === null;
  await client.waitFor(() => client.messages.slice(mark).some(isOutage), 10_000);
  const outageAt = mark + client.messages.slice(mark).findIndex(isOutage);
  await client.waitFor(() => sawTradesFrom(["kraken", "binance"], outageAt + 1), 10_000);
  expect(trades(outageAt + 1).filter((m) => m.exchange === "coinbase")).toEqual([]);

  const restartAt = client.messages.length;
  const fresh = startCollector("coinbase");
  collectors.coinbase = fresh;
  await client.waitFor(() => sawTradesFrom(["coinbase"], restartAt), 20_000);
  const started = client.messages
    .slice(restartAt)
    .find((m) => m.type === "status" && m.exchange === "coinbase" && m.status === "collector_start");
  expect(started?.detail).toBe(fresh.proc.pid);

  // Whatever the new collector re-sent (its trade snapshot) must not double a row.
  const keys = trades(restartAt)
    .filter((m) => m.exchange === "coinbase")
    .map(tradeKey);
  const stored = await waitFor(
    async () => {
      const m = await storedTrades();
      return keys.every((k) => m.has(k)) && m;
    },
    { what: "every trade the client saw in the database", timeoutMs: 15_000, intervalMs: 20 },
  );
  for (const k of keys) expect({ k, n: stored.get(k)?.n }).toEqual({ k, n: 1 });
  expect(await duplicates()).toEqual([]);
}, 40_000);

test("a SIGSTOPped relay consumer does not slow the WebSocket client or a healthy relay consumer", async () => {
  const stopped = new Proc("stopped-consumer", ["relay/consumer-fixture.ts", outPath, "e2e-stopped"], {});
  await waitFor(() => stopped.out.some((l) => l.event === "connected"), {
    what: "the consumer to connect",
    timeoutMs: 10_000,
  });
  await waitFor(() => relay.logs.some((l) => l.msg === "consumer filter set" && l.name === "e2e-stopped"), {
    what: "the relay to name the consumer",
    timeoutMs: 10_000,
  });
  const queued = () =>
    metric(
      relayMetricsPort,
      `tapewire_relay_consumer_queue_bytes{consumer="e2e-stopped",id="${consumerId()}"}`,
    );
  const consumerId = () =>
    String(relay.logs.find((l) => l.msg === "consumer filter set" && l.name === "e2e-stopped")?.consumer);

  // Rates over a fixed number of relay frames (not a fixed time): frames/s and WebSocket trades/s.
  const window = async (frames: number) => {
    const t0 = performance.now();
    const f0 = tally.frames;
    const w0 = trades().length;
    tally.maxLagMs = 0;
    await waitFor(() => tally.frames - f0 >= frames, { what: `${frames} relay frames`, timeoutMs: 20_000 });
    const s = (performance.now() - t0) / 1000;
    return {
      framesPerS: (tally.frames - f0) / s,
      tradesPerS: (trades().length - w0) / s,
      maxLagMs: tally.maxLagMs,
    };
  };
  const before = await window(3000);

  stopped.proc.kill("SIGSTOP");
  // It reads nothing now: once the kernel buffer is full, the relay queues for it.
  await waitFor(async () => (await queued()) > 0, {
    what: "the relay to queue for the stopped consumer",
    timeoutMs: 20_000,
  });
  const queuedAtStart = await queued();
  const during = await window(3000);
  expect(await queued()).toBeGreaterThan(queuedAtStart); // it stayed stopped and backlogged throughout
  console.log("e2e slow consumer", { before, during, queuedAtStart, queuedAtEnd: await queued() });

  expect(during.framesPerS).toBeGreaterThan(before.framesPerS * 0.5);
  expect(during.tradesPerS).toBeGreaterThan(before.tradesPerS * 0.5);
  expect(during.maxLagMs).toBeLessThan(2000);
  expect(tally.disconnects).toEqual([]);
  expect(await metric(relayMetricsPort, "tapewire_relay_dropped_frames_total")).toBe(0);
  expect(client.closed).toBeNull();

  await stopped.stop();
}, 40_000);

test("Postgres away for a while: the bridge spools, and after it is back every trade is stored exactly once", async () => {
  await proxy.stop();
  const markEx = [...tally.perExchange];
  await waitFor(async () => (await metric(bridgePort, "tapewire_bridge_spool_bytes")) > 0, {
    what: "the bridge to spool",
    timeoutMs: 15_000,
  });
  expect(readdirSync(spoolDir).some((n) => n.endsWith(".batches"))).toBe(true);
  await waitFor(
    () => EXCHANGES.every((ex) => tally.perExchange[EXCHANGE_IDS[ex]]! - markEx[EXCHANGE_IDS[ex]]! >= 100),
    { what: "trades from every exchange during the outage", timeoutMs: 15_000 },
  );
  await proxy.start();

  // Stop the collectors so the stream has an end: the relay sends Disconnected after each one's last frame.
  const mark = client.messages.length;
  const seenDisconnects = tally.disconnected.length;
  await Promise.all(EXCHANGES.map((ex) => collectors[ex]!.stop()));
  await waitFor(() => tally.disconnected.length >= seenDisconnects + 3, {
    what: "the relay to report 3 disconnects",
    timeoutMs: 10_000,
  });
  await client.waitFor(
    () =>
      client.messages.slice(mark).filter((m) => m.type === "status" && m.status === "disconnected").length >=
      3,
  );

  const count = async () => Number((await sql`SELECT count(*)::int AS n FROM trades`)[0]!.n);
  await waitFor(async () => (await count()) >= tally.keys.size, {
    what: "every relayed trade in the database",
    timeoutMs: 20_000,
    intervalMs: 20,
  });
  await waitFor(async () => (await metric(bridgePort, "tapewire_bridge_spool_bytes")) === 0, {
    what: "the spool to drain",
    timeoutMs: 15_000,
  });
  const stored = await storedTrades();
  expect(await count()).toBe(tally.keys.size);
  expect([...tally.keys].filter((k) => !stored.has(k))).toEqual([]);
  expect([...stored.keys()].filter((k) => !tally.keys.has(k))).toEqual([]);
  expect(await duplicates()).toEqual([]);
  expect(tally.disconnects).toEqual([]); // the tally saw the whole stream
  expect(await metric(bridgePort, "tapewire_bridge_rows_lost_total")).toBe(0);
}, 50_000);
