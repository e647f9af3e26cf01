// One child process of a test stack, as the operator stack (ops/stack-fixture.ts) and the soak and
// fault runs' stack (scripts/soak-stack.ts) start them: `bun <args>` with NODE_ENV=test, stderr's JSON
// log lines kept for the readiness waits and for diagnosis, stopped with SIGTERM and SIGKILL after 5 s.
// Beside it, the settings both stacks give the relay and the collectors.
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { readLines } from "../relay/testing.ts";

/** This checkout: where a process runs unless told otherwise. */
export const ROOT = resolve(import.meta.dir, "..");
export type Log = Record<string, unknown>;

export interface StackProcessOptions {
  /** Checkout to run in (default this one). */
  root?: string;
  /** How long log() waits by default (20 s). */
  logTimeoutMs?: number;
}

export class StackProcess<J extends string = string> {
  readonly logs: Log[] = [];
  readonly proc: Subprocess<"ignore", "ignore", "pipe">;
  readonly root: string;
  exited = false;
  private readonly logTimeoutMs: number;

  constructor(
    readonly job: J,
    readonly args: string[],
    readonly env: Record<string, string>,
    opts: StackProcessOptions = {},
  ) {
    this.root = opts.root ?? ROOT;
    this.logTimeoutMs = opts.logTimeoutMs ?? 20_000;
    this.proc = Bun.spawn(["bun", ...args], {
      cwd: this.root,
      env: { ...process.env, NODE_ENV: "test", ...env },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    void this.proc.exited.then(() => {
      this.exited = true;
    });
    void readLines(this.proc.stderr, (line) => {
      try {
        this.logs.push(JSON.parse(line) as Log);
      } catch {
        this.logs.push({ msg: line });
      }
    });
  }

  /** The first log line with this msg (waits up to timeoutMs; fails at once if the process has exited). */
  async log(msg: string, timeoutMs = this.logTimeoutMs): Promise<Log> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.logs.find((l) => l.msg === msg);
      if (hit) return hit;
      if (this.exited) throw new Error(`${this.job} exited: ${JSON.stringify(this.logs.slice(-5))}`);
      if (performance.now() > deadline) throw new Error(`${this.job}: no "${msg}" log in ${timeoutMs} ms`);
      await Bun.sleep(10); // a child's log has no event to wait on here but the pipe reader's push
    }
  }

  /** SIGTERM (SIGCONT first: a stopped process cannot act on it), SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.proc.kill("SIGCONT");
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await this.proc.exited;
    clearTimeout(timer);
  }
}

/** The collectors' venue URLs, from the simulator's "simulator listening" log line. */
export function simulatorEnv(ready: Log): Record<string, string> {
  return {
    KRAKEN_WS_URL: String(ready.kraken),
    COINBASE_WS_URL: String(ready.coinbase),
    BINANCE_WS_URL: String(ready.binanceWs),
    BINANCE_REST_URL: String(ready.binanceRest),
    KRAKEN_REST_URL: String(ready.krakenRest),
    COINBASE_REST_URL: String(ready.coinbaseRest),
  };
}

/** A stack's relay with its files in dir: the sockets, and the env that puts them and the journal there. */
export function relaySettings(dir: string): { inPath: string; outPath: string; env: Record<string, string> } {
  const inPath = join(dir, "run", "in.sock");
  const outPath = join(dir, "run", "out.sock");
  return {
    inPath,
    outPath,
    env: {
      TAPEWIRE_RELAY_IN: inPath,
      TAPEWIRE_RELAY_OUT: outPath,
      RELAY_METRICS_PORT: "0",
      TAPEWIRE_JOURNAL_DIR: join(dir, "journal"),
    },
  };
}
