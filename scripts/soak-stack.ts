// The soak's and the fault runs' stack: the Procfile processes as `bun run dev` runs them (sim, three collectors,
// relay, bridge, and for the soak also api and archiver), listeners on port 0, on a fresh database. The bridge
// reaches Postgres through a TCP proxy the runs cut and restore; a relay consumer attached before the first
// collector counts every trade frame (the soak's ground truth for "0 lost" beside the simulator's ledger).
// Any process can be killed and started again with the same settings (restart), and `root` runs the stack's
// processes from another checkout (the fault schedule measured against older code), with the simulator and
// its ledger always from this one.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TcpProxy } from "../bridge/tcp-proxy-fixture.ts";
import { type FreshDatabase, freshDatabase, waitFor } from "../lib/testing.ts";
import { ROOT, relaySettings, StackProcess, simulatorEnv } from "../ops/process-fixture.ts";
import { freePort } from "../ops/stack-fixture.ts";
import { connectRelayConsumer, type RelayConsumer } from "../relay/index.ts";
import {
  type ExchangeName,
  frameExchange,
  frameId,
  frameInstrument,
  frameKind,
  Kind,
} from "../schema/frame.ts";

const VENUES: readonly ExchangeName[] = ["kraken", "coinbase", "binance"];
/** How long a readiness wait lasts by default (the operator stack's is 20 s). */
const LOG_TIMEOUT_MS = 30_000;

export type Job =
  | "sim"
  | "relay"
  | "bridge"
  | "api"
  | "archiver"
  | "collector-kraken"
  | "collector-coinbase"
  | "collector-binance";

/** The log line each job writes once it is up (what restart waits for). */
const READY: Record<Job, string> = {
  sim: "simulator listening",
  relay: "relay listening",
  bridge: "bridge listening",
  api: "api listening",
  archiver: "archiver started",
  "collector-kraken": "collector started",
  "collector-coinbase": "collector started",
  "collector-binance": "collector started",
};

/** One child process of the stack (ops/process-fixture.ts); restart starts it again from its args and env. */
export type SoakProcess = StackProcess<Job>;

export interface TradeTally {
  consumer: RelayConsumer;
  trades: number;
  /** `exchange:instrument:tradeId` of every trade frame the relay delivered. */
  keys: Set<string>;
}

export interface SoakStackOptions {
  /** Simulator market events per second per instrument (18 instruments). */
  eventsPerSecond: number;
  /** Also the API and the archiver (the soak runs every Procfile process; default true). */
  full?: boolean;
  /** Checkout whose collectors, relay and bridge run (default this one). */
  root?: string;
  /** The bridge's spool directory (default one in the stack's temp dir). */
  spoolDir?: string;
  /** Extra environment per job. */
  env?: Partial<Record<Job, Record<string, string>>>;
  /** A relay consumer that counts every trade frame (default true; it sees nothing while the relay is down). */
  tally?: boolean;
}

export interface SoakStack extends AsyncDisposable {
  /** The processes running now (a restarted one replaces the one it follows). */
  readonly processes: SoakProcess[];
  readonly simOrigin: string;
  readonly bridgePort: number;
  readonly db: FreshDatabase;
  readonly proxy: TcpProxy;
  readonly tally: TradeTally;
  readonly collectors: SoakProcess[];
  readonly dir: string;
  get(job: Job): SoakProcess;
  /** Start a job again with the settings it had, once its previous process is gone; resolves when it is up. */
  restart(job: Job): Promise<SoakProcess>;
  /** Every process's log lines (restarted ones too) as <job>.log files in `dir`, for a look after a run. */
  writeLogs(dir: string): void;
}

export async function startSoakStack(options: SoakStackOptions | number): Promise<SoakStack> {
  const opts = typeof options === "number" ? { eventsPerSecond: options } : options;
  const root = opts.root ?? ROOT;
  const full = opts.full ?? true;
  const dir = mkdtempSync(join(tmpdir(), "tw-soak-"));
  const db = await freshDatabase({ prefix: "tw_soak", migrate: root === ROOT });
  if (root !== ROOT) await migrateWith(root, db.url);
  const pg = new URL(db.url);
  const proxy = new TcpProxy(pg.hostname, Number(pg.port || 5432));
  await proxy.start();
  const viaProxy = new URL(db.url);
  viaProxy.hostname = "127.0.0.1";
  viaProxy.port = String(proxy.port);
  const running = new Map<Job, SoakProcess>();
  const history: SoakProcess[] = [];
  const start = (job: Job, args: string[], env: Record<string, string>) => {
    const where = { root: job === "sim" ? ROOT : root, logTimeoutMs: LOG_TIMEOUT_MS };
    const p = new StackProcess(job, args, { ...env, ...opts.env?.[job] }, where);
    running.set(job, p);
    history.push(p);
    return p;
  };
  let tally: TradeTally | undefined;
  const stop = async () => {
    tally?.consumer.close();
    await Promise.all([...running.values()].map((p) => p.stop()));
    await proxy.stop();
    await db[Symbol.asyncDispose]();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const { inPath, outPath, env: relayEnv } = relaySettings(dir);
    const sim = start("sim", ["sim/main.ts"], {
      SIM_PORT: "0",
      SIM_SEED: "7",
      SIM_EVENTS_PER_SECOND: String(opts.eventsPerSecond),
    });
    const relay = start("relay", ["relay/main.ts"], relayEnv);
    const simReady = await sim.log("simulator listening");
    await relay.log("relay listening");
    const bridge = start("bridge", ["bridge/main.ts"], {
      TAPEWIRE_RELAY_OUT: outPath,
      BRIDGE_PORT: "0",
      BRIDGE_HOST: "127.0.0.1",
      BRIDGE_METRICS_PORT: "-1",
      DATABASE_URL: viaProxy.toString(),
      BRIDGE_SPOOL_DIR: opts.spoolDir ?? join(dir, "spool"),
      BRIDGE_DB_RETRY_MAX_MS: "1000",
    });
    const bridgePort = Number((await bridge.log("bridge listening")).port);
    await bridge.log("relay connected");
    tally = startTally(outPath, opts.tally !== false);
    const t = tally;
    if (opts.tally !== false) {
      await waitFor(() => t.consumer.connected, { timeoutMs: 10_000, what: "the tally consumer" });
      await waitFor(() => relay.logs.filter((l) => l.msg === "consumer connected").length >= 2, {
        timeoutMs: 10_000,
        what: "the relay to accept the bridge and the tally",
      });
    }
    const waits: Promise<unknown>[] = [];
    if (full) {
      const archiver = start("archiver", ["archiver/main.ts"], {
        DATABASE_URL: db.url,
        ARCHIVE_DIR: join(dir, "archive"),
        ARCHIVER_METRICS_PORT: String(await freePort()),
        // Minute partitions, looked for every 5 s: the archiver exports all through the run, from the warm-up
        // on, so its steady state is what is measured; with hourly ones a run would see one export or none,
        // depending on the clock (the step of the first hourly export is in BENCHMARKS.md, "Soak").
        ARCHIVE_INTERVAL: process.env.SOAK_ARCHIVE_INTERVAL ?? "60",
        ARCHIVE_CHECK_INTERVAL: "5000",
        // Scaled like the partitions: production rechecks 2 days of hourly ones (48 per exchange and dataset);
        // with minute partitions the default 2 days would cover the whole run, so each cycle's facts would grow
        // all hour by design. Ten minutes reach the steady state early in the run, where a leak still shows.
        ARCHIVE_RECHECK: process.env.SOAK_ARCHIVE_RECHECK ?? "600",
      });
      const api = start("api", ["api/main.ts"], {
        API_PORT: "0",
        API_HOST: "127.0.0.1",
        DATABASE_URL: db.url,
        REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
        JWT_SECRET: "soak-test-secret-".repeat(3),
      });
      waits.push(archiver.log("archiver started"), api.log("api listening"));
    }
    const simEnv = simulatorEnv(simReady);
    for (const ex of VENUES) {
      start(`collector-${ex}`, ["collectors/main.ts", ex], {
        ...simEnv,
        TAPEWIRE_RELAY_IN: inPath,
        // Where each collector keeps its last trade id per symbol, so a restart backfills what it missed.
        TAPEWIRE_COLLECTOR_STATE_DIR: join(dir, "collector-state"),
        [`COLLECTOR_${ex.toUpperCase()}_METRICS_PORT`]: "0",
      });
    }
    await Promise.all(waits);
    for (const ex of VENUES) await running.get(`collector-${ex}`)!.log("collector started");
    const get = (job: Job) => {
      const p = running.get(job);
      if (!p) throw new Error(`no ${job} in this stack`);
      return p;
    };
    return {
      get processes() {
        return [...running.values()];
      },
      get collectors() {
        return VENUES.map((ex) => get(`collector-${ex}`));
      },
      simOrigin: new URL(String(simReady.faults)).origin,
      // A restarted bridge listens on a port of its own choosing (port 0): the latest one's.
      get bridgePort() {
        const up = get("bridge").logs.find((l) => l.msg === "bridge listening");
        return up ? Number(up.port) : bridgePort;
      },
      db,
      proxy,
      tally: t,
      dir,
      get,
      async restart(job: Job) {
        const old = get(job);
        if (!old.exited) await old.proc.exited;
        const p = start(job, old.args, old.env);
        await p.log(READY[job]);
        return p;
      },
      writeLogs(out: string) {
        mkdirSync(out, { recursive: true });
        for (const job of new Set(history.map((p) => p.job))) {
          const lines = history
            .filter((p) => p.job === job)
            .flatMap((p) => p.logs.map((l) => JSON.stringify(l)));
          writeFileSync(join(out, `${job}.log`), `${lines.join("\n")}\n`);
        }
      },
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Migrate with the other checkout's own migrations (its schema is what its bridge writes). */
async function migrateWith(root: string, url: string): Promise<void> {
  const p = Bun.spawn(["bun", "scripts/db-migrate.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url },
    stdout: "ignore",
    stderr: "pipe",
  });
  const err = await new Response(p.stderr).text();
  if ((await p.exited) !== 0) throw new Error(`migrating with ${root}: ${err.slice(-2000)}`);
}

function startTally(outPath: string, on: boolean): TradeTally {
  const t = { trades: 0, keys: new Set<string>() } as TradeTally;
  if (!on) {
    t.consumer = { close() {} } as RelayConsumer;
    return t;
  }
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
