// The real stack for the browser test and bench:ui, as separate processes on a fresh database: simulator,
// relay, bridge, API (serving a fresh UI build) and the three collectors. Redis and Postgres are the
// machine's. Everything is stopped (SIGTERM, then SIGKILL) and the database dropped by stop().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { freshDatabase, type TestDatabase } from "../../bridge/testing.ts";
import { EXCHANGES, type ExchangeName } from "../../schema/frame.ts";

export const ROOT = resolve(import.meta.dir, "..", "..");
type Log = Record<string, unknown>;

export class Proc {
  readonly logs: Log[] = [];
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  done = false;

  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string>,
  ) {
    this.proc = Bun.spawn(args[0] === "bun" ? args : ["bun", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    void this.proc.exited.then(() => {
      this.done = true;
    });
    void this.read(this.proc.stderr);
    void this.read(this.proc.stdout);
  }

  private async read(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    const reader = stream.getReader();
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        if (!line) continue;
        try {
          this.logs.push(JSON.parse(line) as Log);
        } catch {
          this.logs.push({ msg: line, raw: true });
        }
        if (this.logs.length > 5000) this.logs.splice(0, 1000);
      }
    }
  }

  async waitLog(msg: string, timeoutMs = 20_000): Promise<Log> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logs.find((l) => l.msg === msg);
      if (hit) return hit;
      if (this.done) throw new Error(`${this.name} exited before "${msg}": ${this.tail()}`);
      if (Date.now() > end)
        throw new Error(`${this.name}: no "${msg}" within ${timeoutMs} ms: ${this.tail()}`);
      await Bun.sleep(20);
    }
  }

  tail(n = 8): string {
    return this.logs
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join("\n");
  }

  async stop(graceMs = 5000): Promise<void> {
    if (this.done) return;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await this.proc.exited;
    clearTimeout(timer);
  }
}

export interface UiStack {
  apiUrl: string;
  bridgeUrl: string;
  bridgePort: number;
  /** http://127.0.0.1:SIM/_sim */
  simUrl: string;
  /** The relay's consumer socket (for more consumers, e.g. the trader). */
  relayOut: string;
  procs: Record<string, Proc>;
  db: TestDatabase;
  /** The API's ARCHIVE_DIR (empty until something archives into it; backtests read it). */
  archiveDir: string;
  uiDir: string;
  /** Resolves once the bridge delivers a BBO from every exchange (the collectors are up and books built). */
  ready(timeoutMs?: number): Promise<void>;
  /** The page URL for a path ("/markets"), pointing the UI at this stack's bridge. */
  page(path: string, query?: Record<string, string>): string;
  stop(): Promise<void>;
}

export interface UiStackOptions {
  eventsPerSecond?: number;
  /** Extra env for the bridge (e.g. BRIDGE_MAX_BUFFERED_BYTES). */
  bridgeEnv?: Record<string, string>;
  /** Skip the UI build and serve this folder. */
  uiDir?: string;
}

export async function buildUi(outDir: string): Promise<void> {
  const p = Bun.spawn(["bun", "run", "build"], {
    cwd: ROOT,
    env: { ...process.env, UI_OUT_DIR: outDir },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`bun run build failed (${code}): ${err}`);
}

export async function startUiStack(opts: UiStackOptions = {}): Promise<UiStack> {
  const dir = mkdtempSync(join(tmpdir(), "tw-ui-stack-"));
  const uiDir = opts.uiDir ?? join(dir, "ui");
  const procs: Record<string, Proc> = {};
  const building = opts.uiDir ? Promise.resolve() : buildUi(uiDir);
  const db = await freshDatabase();
  const secret = `ui-e2e-${crypto.randomUUID()}-${crypto.randomUUID()}`;
  const common = { JWT_SECRET: secret, LOG_LEVEL: "info" };
  const inPath = join(dir, "run", "in.sock");
  const outPath = join(dir, "run", "out.sock");
  const stop = async () => {
    await Promise.all(Object.values(procs).map((p) => p.stop()));
    await db.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    procs.sim = new Proc("sim", ["sim/main.ts"], {
      SIM_PORT: "0",
      SIM_SEED: "11",
      SIM_EVENTS_PER_SECOND: String(opts.eventsPerSecond ?? 30),
    });
    procs.relay = new Proc("relay", ["relay/main.ts"], {
      TAPEWIRE_RELAY_IN: inPath,
      TAPEWIRE_RELAY_OUT: outPath,
      TAPEWIRE_JOURNAL_DIR: join(dir, "journal"),
      RELAY_METRICS_PORT: "0",
    });
    const sim = await procs.sim.waitLog("simulator listening");
    await procs.relay.waitLog("relay listening");
    procs.bridge = new Proc("bridge", ["bridge/main.ts"], {
      ...common,
      TAPEWIRE_RELAY_OUT: outPath,
      BRIDGE_PORT: "0",
      BRIDGE_METRICS_PORT: "-1",
      DATABASE_URL: db.url,
      BRIDGE_SPOOL_DIR: join(dir, "spool"),
      ...opts.bridgeEnv,
    });
    const bridgePort = Number((await procs.bridge.waitLog("bridge listening")).port);
    await building;
    procs.api = new Proc("api", ["api/main.ts"], {
      ...common,
      API_PORT: "0",
      DATABASE_URL: db.url,
      API_UI_DIR: uiDir,
      ARCHIVE_DIR: join(dir, "archive"),
      API_REDIS_PREFIX: `tw-ui-${crypto.randomUUID().slice(0, 8)}:`,
      API_ARGON2_MEMORY_KIB: "8192",
      API_ARGON2_TIME_COST: "1",
    });
    const apiUrl = String((await procs.api.waitLog("api listening")).url);
    const simEnv = {
      KRAKEN_WS_URL: String(sim.kraken),
      COINBASE_WS_URL: String(sim.coinbase),
      BINANCE_WS_URL: String(sim.binanceWs),
      BINANCE_REST_URL: String(sim.binanceRest),
      KRAKEN_REST_URL: String(sim.krakenRest),
      COINBASE_REST_URL: String(sim.coinbaseRest),
    };
    for (const ex of EXCHANGES as readonly ExchangeName[]) {
      procs[`collector-${ex}`] = new Proc(`collector-${ex}`, ["collectors/main.ts", ex], {
        ...simEnv,
        TAPEWIRE_RELAY_IN: inPath,
        [`COLLECTOR_${ex.toUpperCase()}_METRICS_PORT`]: "0",
      });
    }
    const bridgeUrl = `ws://127.0.0.1:${bridgePort}/ws`;
    const simUrl = String(sim.faults).replace(/\/faults$/, "");
    return {
      apiUrl,
      bridgeUrl,
      bridgePort,
      simUrl,
      relayOut: outPath,
      procs,
      db,
      archiveDir: join(dir, "archive"),
      uiDir,
      ready: (timeoutMs = 45_000) => bboFromEvery(bridgeUrl, timeoutMs),
      page: (path, query = {}) => `${apiUrl}${path}?${new URLSearchParams({ bridge: bridgeUrl, ...query })}`,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

function bboFromEvery(url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const seen = new Set<string>();
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`no BBO from every exchange within ${timeoutMs} ms (seen: ${[...seen].join(", ")})`));
    }, timeoutMs);
    ws.onopen = () => ws.send(JSON.stringify({ op: "subscribe", kinds: ["bbo"] }));
    ws.onmessage = (e) => {
      const v = JSON.parse(String(e.data));
      for (const m of Array.isArray(v) ? v : [v]) if (m.type === "bbo") seen.add(m.exchange);
      if (EXCHANGES.every((x) => seen.has(x))) {
        clearTimeout(timer);
        ws.close();
        resolve();
      }
    };
  });
}
