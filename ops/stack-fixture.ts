// The real stack as processes, for the operator tests (alerts end to end, the dashboard's metric names): the
// simulator, the three collectors, the relay, the bridge on a fresh database and the API, every listener on
// port 0. Each process's /metrics address is read from its start-up log line.
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FreshDatabase, freshDatabase } from "../lib/testing.ts";
import { relaySettings, StackProcess, simulatorEnv } from "./process-fixture.ts";

export { StackProcess } from "./process-fixture.ts";

export interface ScrapeTarget {
  job: string;
  /** host:port of its /metrics. */
  address: string;
}

export interface Stack extends AsyncDisposable {
  readonly targets: ScrapeTarget[];
  readonly simUrl: string;
  readonly processes: StackProcess[];
  readonly db: FreshDatabase;
}

export interface StackOptions {
  /** Also the API and the archiver (the alert test does not need them). */
  full?: boolean;
  env?: Record<string, string>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), "tw-ops-"));
  const db = await freshDatabase();
  const processes: StackProcess[] = [];
  const start = (job: string, args: string[], env: Record<string, string>) => {
    const p = new StackProcess(job, args, { ...opts.env, ...env });
    processes.push(p);
    return p;
  };
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await db[Symbol.asyncDispose]();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const { inPath, outPath, env: relayEnv } = relaySettings(dir);
    const sim = start("sim", ["sim/main.ts"], { SIM_PORT: "0", SIM_SEED: "7", SIM_EVENTS_PER_SECOND: "20" });
    const relay = start("relay", ["relay/main.ts"], relayEnv);
    const simReady = await sim.log("simulator listening");
    const simEnv = simulatorEnv(simReady);
    const targets: ScrapeTarget[] = [];
    targets.push({ job: "relay", address: `127.0.0.1:${(await relay.log("relay listening")).metricsPort}` });
    const bridge = start("bridge", ["bridge/main.ts"], {
      TAPEWIRE_RELAY_OUT: outPath,
      BRIDGE_PORT: "0",
      BRIDGE_METRICS_PORT: "0",
      DATABASE_URL: db.url,
      BRIDGE_SPOOL_DIR: join(dir, "spool"),
    });
    const collectors = (["kraken", "coinbase", "binance"] as const).map((ex) =>
      start(`collector-${ex}`, ["collectors/main.ts", ex], {
        ...simEnv,
        TAPEWIRE_RELAY_IN: inPath,
        [`COLLECTOR_${ex.toUpperCase()}_METRICS_PORT`]: "0",
      }),
    );
    targets.push({
      job: "bridge",
      address: `127.0.0.1:${(await bridge.log("bridge listening")).metricsPort}`,
    });
    for (const c of collectors) {
      targets.push({ job: c.job, address: `127.0.0.1:${(await c.log("collector started")).metricsPort}` });
    }
    if (opts.full) {
      // The archiver logs no port: give it a free one.
      const port = await freePort();
      // The archiver writes and the API's analytics read the same archive.
      const archiveDir = opts.env?.ARCHIVE_DIR ?? join(dir, "archive");
      const archiver = start("archiver", ["archiver/main.ts"], {
        DATABASE_URL: db.url,
        ARCHIVE_DIR: archiveDir,
        ARCHIVER_METRICS_PORT: String(port),
      });
      await archiver.log("archiver started");
      targets.push({ job: "archiver", address: `127.0.0.1:${port}` });
      const api = start("api", ["api/main.ts"], {
        API_PORT: "0",
        API_HOST: "127.0.0.1",
        DATABASE_URL: db.url,
        ARCHIVE_DIR: archiveDir,
        REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
        JWT_SECRET: "ops-test-secret-".repeat(3),
      });
      const url = new URL(String((await api.log("api listening")).url));
      targets.push({ job: "api", address: url.host });
    }
    return {
      targets,
      simUrl: new URL(String(simReady.faults)).origin,
      processes,
      db,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** Every metric family name a scrape shows (without _bucket/_sum/_count suffixes of histograms). */
export function metricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^# TYPE (\S+) (\w+)/.exec(line);
    if (m) {
      names.add(m[1]!);
      if (m[2] === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(m[1]! + s);
    }
  }
  return names;
}
