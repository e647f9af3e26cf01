// Test helpers for the link: unique stream names on a shared NATS, a private nats-server on a free port with
// its own store, `bun link/main.ts` as a child process, and a ledger-style frame source.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Subprocess, spawn } from "bun";
import { connect } from "nats";
import { type RelayProcess, readLines, startRelayProcess, tempDir, waitFor } from "../relay/testing.ts";
import { type Exchange, encodeFrame, FRAME_SIZE, Kind, Status } from "../schema/frame.ts";
import { type LinkConfig, loadLinkConfig } from "./config.ts";

const ROOT = join(import.meta.dir, "..");
export const SHARED_NATS = process.env.TAPEWIRE_NATS_URL ?? "nats://127.0.0.1:4222";

/** Env for one test's link: its own stream, subjects and durable, so tests never see each other's data. */
export function linkEnv(extra: Record<string, string> = {}): Record<string, string> {
  const tag = `t${process.pid}${Math.floor(Math.random() * 1e9).toString(36)}`;
  return {
    TAPEWIRE_NATS_URL: SHARED_NATS,
    TAPEWIRE_LINK_STREAM: `TW_${tag}`,
    TAPEWIRE_LINK_SUBJECT: `tw.${tag}`,
    TAPEWIRE_LINK_DURABLE: `imp_${tag}`,
    TAPEWIRE_LINK_MAX_AGE: "10m",
    ...extra,
  };
}
export const linkConfigOf = (env: Record<string, string>): LinkConfig => loadLinkConfig(env);

export interface ImportingRelay extends RelayProcess {
  /** Its pass-through ingest socket (TAPEWIRE_RELAY_PASSTHROUGH_IN), where the importing link writes. */
  readonly passthroughPath: string;
}

/**
 * A relay process with the pass-through ingest socket on (an importing relay). `dir` keeps its journal across a
 * restart (the caller removes it then); without it, a fresh temp dir removed on dispose.
 */
export async function startImportingRelay(
  opts: { dir?: string; env?: Record<string, string> } = {},
): Promise<ImportingRelay> {
  const dir = opts.dir ?? tempDir();
  const passthroughPath = join(dir, "run", "passthrough.sock");
  const relay = await startRelayProcess({
    dir,
    env: { TAPEWIRE_RELAY_PASSTHROUGH_IN: passthroughPath, ...opts.env },
  });
  const dispose = relay[Symbol.asyncDispose].bind(relay);
  return Object.assign(relay, {
    passthroughPath,
    async [Symbol.asyncDispose]() {
      await dispose();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** Delete a test's stream (its consumers go with it). */
export async function dropStream(url: string, stream: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await (await nc.jetstreamManager()).streams.delete(stream);
  } catch {
    // never created: nothing to drop
  }
  await nc.close();
}

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** The pinned nats-server 2.15.1 that .ci/run installs (tools/nats/requirements.txt). */
const PINNED_NATS_SERVER = join(import.meta.dir, "..", ".data", "nats-venv", "bin", "nats-server");

/**
 * The nats-server binary tests and benchmarks start: `bin`, else TAPEWIRE_NATS_SERVER, else the pinned 2.15.1
 * where .ci/run installed it (its added p99 on the link is 0.8-0.9x of 2.9.10's, BENCHMARKS.md), else Debian's
 * /usr/sbin/nats-server.
 */
export const natsServerBin = (bin?: string): string =>
  bin ??
  process.env.TAPEWIRE_NATS_SERVER ??
  (existsSync(PINNED_NATS_SERVER) ? PINNED_NATS_SERVER : "/usr/sbin/nats-server");

/** The binary's version line ("nats-server: v2.9.10"), or why it has none. */
export function natsServerVersion(bin?: string): string {
  const path = natsServerBin(bin);
  try {
    const r = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "pipe" });
    return r.stdout.toString().trim() || `${path}: exit ${r.exitCode}`;
  } catch (error) {
    return `${path}: ${String(error)}`;
  }
}

export interface NatsServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The running server's pid (undefined while stopped). */
  readonly pid: number | undefined;
  /** Stop (SIGTERM, wait for exit) and start again on the same port and store. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A private nats-server with JetStream (never the shared one on 4222). */
export async function startNatsServer(
  opts: {
    port?: number;
    host?: string;
    /** Command prefix for the server, e.g. ["ip", "netns", "exec", ns]. */
    wrap?: string[];
    /** Where the readiness probe connects (default the server's own URL), and its command prefix. */
    probeUrl?: string;
    probeWrap?: string[];
    /** Extra env for the server process (benchmarks: GOMAXPROCS, GOGC). */
    env?: Record<string, string>;
    /** Directory the store's temp dir is made in (default the OS temp dir). */
    storeParent?: string;
    /** The nats-server binary (natsServerBin). */
    bin?: string;
  } = {},
): Promise<NatsServer> {
  const port = opts.port ?? (await freePort());
  const host = opts.host ?? "127.0.0.1";
  const storeDir = mkdtempSync(join(opts.storeParent ?? tmpdir(), "tapewire-nats-"));
  let proc: Subprocess | null = null;
  const url = `nats://${host}:${port}`;
  const bin = natsServerBin(opts.bin);
  const server: NatsServer = {
    url,
    port,
    storeDir,
    get pid() {
      return proc?.pid;
    },
    async start() {
      proc = spawn([...(opts.wrap ?? []), bin, "-js", "-a", host, "-p", String(port), "-sd", storeDir], {
        stdout: "ignore",
        stderr: "ignore",
        env: { ...process.env, ...opts.env },
      });
      await waitFor(() => probe(opts.probeUrl ?? url, opts.probeWrap), `nats-server on ${url}`, 20_000);
    },
    async stop() {
      const p = proc;
      proc = null;
      if (p === null) return;
      p.kill("SIGTERM");
      await p.exited;
    },
    async restart(downMs = 0) {
      await server.stop();
      if (downMs > 0) await Bun.sleep(downMs); // the outage itself is the point here, not a wait for a condition
      await server.start();
    },
    async [Symbol.asyncDispose]() {
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** JetStream answers at `url` (from another namespace through `wrap`: a child process does the probe). */
async function probe(url: string, wrap?: string[]): Promise<boolean> {
  if (wrap) {
    const p = spawn([...wrap, "bun", "-e", PROBE, url], { stdout: "ignore", stderr: "ignore", cwd: ROOT });
    return (await p.exited) === 0;
  }
  try {
    const nc = await connect({ servers: url, reconnect: false, timeout: 500 });
    await (await nc.jetstreamManager()).getAccountInfo();
    await nc.close();
    return true;
  } catch {
    return false;
  }
}
const PROBE = `const { connect } = require("nats"); const nc = await connect({ servers: process.argv.at(-1), reconnect: false, timeout: 500 }); await (await nc.jetstreamManager()).getAccountInfo(); await nc.close();`;

export interface LinkProcess extends AsyncDisposable {
  readonly proc: Subprocess<"ignore", "ignore", "pipe">;
  readonly logs: string[];
  /** Its /metrics, /health, /ready port (any free one unless env sets LINK_<ROLE>_METRICS_PORT), -1 = off. */
  readonly metricsPort: number;
  /** GET a probe path on the metrics port (e.g. "/metrics"), from the test's own namespace. */
  probe(path: string): Promise<Response>;
  /** One /metrics series (exact name with labels), or NaN when absent. */
  metric(series: string): Promise<number>;
}

/**
 * `bun link/main.ts <role>` with env; resolves once it logs "link running". Its metrics port is any free one
 * (0) unless env sets it, so link processes started side by side never collide.
 */
export async function spawnLink(
  role: "export" | "import",
  env: Record<string, string>,
  wrap: string[] = [],
  /** Another checkout to run link/main.ts from (benchmarks: the code before a change, same run). */
  root = ROOT,
): Promise<LinkProcess> {
  const proc = spawn([...wrap, "bun", "link/main.ts", role], {
    cwd: root,
    env: { ...process.env, LINK_EXPORT_METRICS_PORT: "0", LINK_IMPORT_METRICS_PORT: "0", ...env },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const logs: string[] = [];
  let running = false;
  let metricsPort = -1;
  void readLines(proc.stderr, (line) => {
    logs.push(line);
    if (line.includes('"link running"')) {
      metricsPort = (JSON.parse(line) as { metricsPort?: number }).metricsPort ?? -1;
      running = true;
    }
  });
  await waitFor(() => running || proc.exitCode !== null, `link ${role} to start`, 20_000);
  if (!running) throw new Error(`link ${role} exited: ${logs.join("\n")}`);
  const probe = (path: string) => fetch(`http://127.0.0.1:${metricsPort}${path}`);
  return {
    proc,
    logs,
    metricsPort,
    probe,
    async metric(series) {
      const text = await (await probe("/metrics")).text();
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line ? Number(line.slice(series.length + 1)) : Number.NaN;
    },
    async [Symbol.asyncDispose]() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await proc.exited;
      }
    },
  };
}

/**
 * A collector-like frame source: CollectorStart (seq 0) then trades with ids 1, 2, … (the ledger: trade id =
 * collector seq), `count` at a time from `next`.
 */
export class TradeSource {
  private seq = 0;
  constructor(
    readonly exchange: Exchange,
    private readonly pid = 4242,
  ) {}
  /** The next `count` frames (the first call starts with CollectorStart). */
  next(count: number): Uint8Array {
    const bytes = new Uint8Array(count * FRAME_SIZE);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < count; i++) {
      const seq = this.seq++;
      const start = seq === 0;
      encodeFrame(view, i * FRAME_SIZE, {
        kind: start ? Kind.Status : Kind.Trade,
        flags: start ? Status.CollectorStart << 4 : 0x10,
        exchange: this.exchange,
        instrument: start ? 0 : 1,
        seq,
        id: start ? this.pid : seq,
        price: start ? 1_700_000_000_000 : 100 + (seq % 7),
        size: start ? 0 : 1 + (seq % 3),
        tsExchange: 0,
        tsRecv: Date.now() * 1_000_000,
      });
    }
    return bytes;
  }
  get sent(): number {
    return this.seq;
  }
}
