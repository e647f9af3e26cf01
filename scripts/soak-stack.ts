// The soak's stack: every Procfile process as `bun run dev` runs it (sim, three collectors, relay, bridge, api,
// archiver), each started like the tests start them (ops/stack-fixture.ts's StackProcess, listeners on port 0)
// on a fresh database. The bridge reaches Postgres through a TCP proxy the soak cuts and restores; a relay
// consumer attached before the first collector counts every trade frame (the ground truth for "0 lost").
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TcpProxy } from "../bridge/tcp-proxy-fixture.ts";
import { type FreshDatabase, freshDatabase, waitFor } from "../lib/testing.ts";
import { freePort, StackProcess } from "../ops/stack-fixture.ts";
import { connectRelayConsumer, type RelayConsumer } from "../relay/index.ts";
import { frameExchange, frameId, frameInstrument, frameKind, Kind } from "../schema/frame.ts";

export interface TradeTally {
  consumer: RelayConsumer;
  trades: number;
  /** `exchange:instrument:tradeId` of every trade frame the relay delivered. */
  keys: Set<string>;
}

export interface SoakStack extends AsyncDisposable {
  readonly processes: StackProcess[];
  readonly simOrigin: string;
  readonly bridgePort: number;
  readonly db: FreshDatabase;
  readonly proxy: TcpProxy;
  readonly tally: TradeTally;
  readonly collectors: StackProcess[];
}

export async function startSoakStack(eventsPerSecond: number): Promise<SoakStack> {
  const dir = mkdtempSync(join(tmpdir(), "tw-soak-"));
  const db = await freshDatabase({ prefix: "tw_soak" });
  const pg = new URL(db.url);
  const proxy = new TcpProxy(pg.hostname, Number(pg.port || 5432));
  await proxy.start();
  const viaProxy = new URL(db.url);
  viaProxy.hostname = "127.0.0.1";
  viaProxy.port = String(proxy.port);
  const processes: StackProcess[] = [];
  const start = (job: string, args: string[], env: Record<string, string>) => {
    const p = new StackProcess(job, args, env);
    processes.push(p);
    return p;
  };
  let tally: TradeTally | undefined;
  const stop = async () => {
    tally?.consumer.close();
    await Promise.all(processes.map((p) => p.stop()));
    await proxy.stop();
    await db[Symbol.asyncDispose]();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const inPath = join(dir, "run", "in.sock");
    const outPath = join(dir, "run", "out.sock");
    const sim = start("sim", ["sim/main.ts"], {
      SIM_PORT: "0",
      SIM_SEED: "7",
      SIM_EVENTS_PER_SECOND: String(eventsPerSecond),
    });
    const relay = start("relay", ["relay/main.ts"], {
      TAPEWIRE_RELAY_IN: inPath,
      TAPEWIRE_RELAY_OUT: outPath,
      RELAY_METRICS_PORT: "0",
      TAPEWIRE_JOURNAL_DIR: join(dir, "journal"),
    });
    const simReady = await sim.log("simulator listening");
    await relay.log("relay listening");
    const bridge = start("bridge", ["bridge/main.ts"], {
      TAPEWIRE_RELAY_OUT: outPath,
      BRIDGE_PORT: "0",
      BRIDGE_HOST: "127.0.0.1",
      BRIDGE_METRICS_PORT: "-1",
      DATABASE_URL: viaProxy.toString(),
      BRIDGE_SPOOL_DIR: join(dir, "spool"),
      BRIDGE_DB_RETRY_MAX_MS: "1000",
    });
    const bridgePort = Number((await bridge.log("bridge listening")).port);
    await bridge.log("relay connected");
    tally = startTally(outPath);
    const t = tally;
    await waitFor(() => t.consumer.connected, { timeoutMs: 10_000, what: "the tally consumer" });
    await waitFor(() => relay.logs.filter((l) => l.msg === "consumer connected").length >= 2, {
      timeoutMs: 10_000,
      what: "the relay to accept the bridge and the tally",
    });
    const archiver = start("archiver", ["archiver/main.ts"], {
      DATABASE_URL: db.url,
      ARCHIVE_DIR: join(dir, "archive"),
      ARCHIVER_METRICS_PORT: String(await freePort()),
    });
    const api = start("api", ["api/main.ts"], {
      API_PORT: "0",
      API_HOST: "127.0.0.1",
      DATABASE_URL: db.url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      JWT_SECRET: "soak-test-secret-".repeat(3),
    });
    const simEnv = {
      KRAKEN_WS_URL: String(simReady.kraken),
      COINBASE_WS_URL: String(simReady.coinbase),
      BINANCE_WS_URL: String(simReady.binanceWs),
      BINANCE_REST_URL: String(simReady.binanceRest),
      KRAKEN_REST_URL: String(simReady.krakenRest),
      COINBASE_REST_URL: String(simReady.coinbaseRest),
    };
    const collectors = (["kraken", "coinbase", "binance"] as const).map((ex) =>
      start(`collector-${ex}`, ["collectors/main.ts", ex], {
        ...simEnv,
        TAPEWIRE_RELAY_IN: inPath,
        [`COLLECTOR_${ex.toUpperCase()}_METRICS_PORT`]: "0",
      }),
    );
    await Promise.all([archiver.log("archiver started"), api.log("api listening")]);
    for (const c of collectors) await c.log("collector started");
    return {
      processes,
      simOrigin: new URL(String(simReady.faults)).origin,
      bridgePort,
      db,
      proxy,
      tally: t,
      collectors,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function startTally(outPath: string): TradeTally {
  const t = { trades: 0, keys: new Set<string>() } as TradeTally;
  t.consumer = connectRelayConsumer({
    path: outPath,
    name: "soak-tally",
    reconnectMinMs: 10,
    reconnectMaxMs: 100,
    onFrame(view, off) {
      if (frameKind(view, off) !== Kind.Trade) return;
      t.trades++;
      t.keys.add(`${frameExchange(view, off)}:${frameInstrument(view, off)}:${frameId(view, off)}`);
    },
  });
  return t;
}
