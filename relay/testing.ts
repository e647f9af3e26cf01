// Test helpers: a real relay process on unique temp sockets, frame builders and condition waits.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Subprocess, spawn } from "bun";
import { waitFor as sharedWaitFor } from "../lib/testing.ts";
import { decodeFrame, encodeFrame, FRAME_SIZE, type FrameFields, Kind, Status } from "../schema/frame.ts";
import { FrameStreamDecoder } from "../schema/stream.ts";
import { connectRelayConsumer } from "./client.ts";
import type { JournalOptions } from "./journal/journal.ts";

const ROOT = join(import.meta.dir, "..");

export interface LogLine {
  msg: string;
  level: string;
  [key: string]: unknown;
}

export interface RelayProcess {
  readonly dir: string;
  readonly inPath: string;
  readonly outPath: string;
  readonly metricsPort: number;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  readonly logs: LogLine[];
  metrics(): Promise<string>;
  /** Value of one metric line (exact name with labels), or NaN. */
  metric(series: string): Promise<number>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A unique directory; `sub` is where the relay's sockets go (created by the relay with mode 0700). */
export function tempDir(prefix = "tapewire-relay-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Start `bun relay/main.ts` and resolve once it logs "relay listening". */
export async function startRelayProcess(
  opts: {
    dir?: string;
    env?: Record<string, string>;
    expectFailure?: boolean;
    /** Another checkout to run relay/main.ts from (benchmarks: a commit before a change, same run). */
    root?: string;
    /** Words before `bun relay/main.ts` (benchmarks: `taskset -c 0` for a pinned layout). */
    prefix?: string[];
  } = {},
): Promise<RelayProcess> {
  const dir = opts.dir ?? tempDir();
  const inPath = join(dir, "run", "in.sock");
  const outPath = join(dir, "run", "out.sock");
  const proc = spawn([...(opts.prefix ?? []), "bun", "relay/main.ts"], {
    cwd: opts.root ?? ROOT,
    env: {
      ...process.env,
      TAPEWIRE_RELAY_IN: inPath,
      TAPEWIRE_RELAY_OUT: outPath,
      RELAY_METRICS_PORT: "0",
      TAPEWIRE_JOURNAL_DIR: join(dir, "journal"),
      ...opts.env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const logs: LogLine[] = [];
  let metricsPort = -1;
  const ready = new Promise<void>((resolve, reject) => {
    readLines(proc.stderr, (line) => {
      try {
        const parsed = JSON.parse(line) as LogLine;
        logs.push(parsed);
        if (parsed.msg === "relay listening") {
          metricsPort = parsed.metricsPort as number;
          resolve();
        }
      } catch {
        logs.push({ msg: line, level: "raw" });
      }
    }).then(() => reject(new Error(`relay exited before listening: ${JSON.stringify(logs)}`)));
  });
  await ready;
  const relay: RelayProcess = {
    dir,
    inPath,
    outPath,
    metricsPort,
    proc,
    logs,
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      return res.text();
    },
    async metric(series) {
      const text = await relay.metrics();
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line ? Number(line.slice(series.length + 1)) : Number.NaN;
    },
    async stop() {
      proc.kill("SIGTERM");
      return proc.exited;
    },
    async [Symbol.asyncDispose]() {
      if (proc.exitCode === null) await relay.stop();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return relay;
}

/**
 * Encode frames (defaults: a kraken trade on instrument 1 at price 1, size 1; a status frame defaults to
 * price and size 0) into one buffer.
 */
/** A test journal's options in `dir`: 1 GiB segments, an hour's age, fsync every 5 ms, flushes every 1 ms. */
export function journalOptions(dir: string, overrides: Partial<JournalOptions> = {}): JournalOptions {
  return {
    dir,
    segmentBytes: 1 << 30,
    segmentMs: 3_600_000,
    fsyncMs: 5,
    flushMs: 1,
    retentionMs: 86_400_000,
    retentionBytes: 1 << 30,
    requireArchive: true,
    ...overrides,
  };
}

export function frames(list: Partial<FrameFields>[]): Uint8Array {
  const bytes = new Uint8Array(list.length * FRAME_SIZE);
  const view = new DataView(bytes.buffer);
  list.forEach((f, i) => {
    const value = f.kind === Kind.Status ? 0 : 1;
    encodeFrame(view, i * FRAME_SIZE, {
      kind: Kind.Trade,
      flags: 0,
      exchange: 1,
      instrument: 1,
      seq: 0,
      id: 0,
      price: value,
      size: value,
      tsExchange: 0,
      tsRecv: 0,
      ...f,
    });
  });
  return bytes;
}

/** Poll a condition every few ms (no fixed sleeps); throws with `what` after `timeoutMs`. */
/** lib/testing.ts waitFor (the one implementation) with this kit's (cond, what, timeoutMs) signature. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  await sharedWaitFor(cond, { what, timeoutMs });
}

/** A consumer in the test process that decodes every frame it gets. */
export function collect(
  path: string,
  opts: {
    name?: string;
    filter?: import("./filter.ts").ConsumerFilter;
    /** Where the first connection starts (journal resume). */
    resume?: import("./filter.ts").ResumePosition;
    /** Resume from the tracked position after every reconnect. */
    resumeAlways?: boolean;
  } = {},
): { frames: FrameFields[]; consumer: import("./client.ts").RelayConsumer; disconnects: string[] } {
  const got: FrameFields[] = [];
  const disconnects: string[] = [];
  const consumer = connectRelayConsumer({
    path,
    name: opts.name,
    filter: opts.filter,
    startFrom: opts.resume,
    resume: opts.resumeAlways,
    reconnectMinMs: 10,
    reconnectMaxMs: 100,
    onFrame: (view, offset) => got.push(decodeFrame(view, offset)),
    onDisconnect: (reason) => disconnects.push(reason),
  });
  return { frames: got, consumer, disconnects };
}

/** Wait until the relay has applied the filter lines of consumers with these names. */
export function waitForFilters(relay: RelayProcess, names: string[]): Promise<void> {
  return waitFor(
    () => names.every((n) => relay.logs.some((l) => l.msg === "consumer filter set" && l.name === n)),
    `filters of ${names.join(", ")}`,
  );
}

/** Call `onLine` for each "\n"-terminated line of a process pipe; resolves at end of stream. */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
}

/** A collector-side socket that also reads what the relay writes back (Ack frames); writes wait for drain. */
export async function rawCollector(path: string) {
  const acks: FrameFields[] = [];
  const decoder = new FrameStreamDecoder((v, o) => acks.push(decodeFrame(v, o)));
  let drained: (() => void) | null = null;
  let closed = false;
  const socket = await Bun.connect({
    unix: path,
    socket: {
      data: (_s, d) => decoder.push(d),
      drain: () => drained?.(),
      close: () => {
        closed = true;
        drained?.();
      },
    },
  });
  return {
    acks,
    /** The collector seqs the Ack frames carried, in order. */
    ackedSeqs: () =>
      acks.filter((a) => a.kind === Kind.Status && a.flags >> 4 === Status.Ack).map((a) => a.seq),
    /** The relay ended the connection. */
    get closed() {
      return closed;
    },
    async write(bytes: Uint8Array): Promise<void> {
      let at = 0;
      while (at < bytes.byteLength) {
        const n = socket.write(bytes.subarray(at));
        if (n < 0) throw new Error("relay closed the collector socket");
        at += n;
        if (at < bytes.byteLength) await new Promise<void>((resolve) => (drained = resolve));
      }
    },
    lastAck: () => acks.at(-1)?.id ?? -1,
    end: () => socket.end(),
    [Symbol.dispose]: () => socket.end(),
  };
}

/**
 * `bun relay/consumer-fixture.ts` reading `path` as consumer `name` (mode e.g. "slow"), its JSON report lines
 * collected; `cleanups` gets what resumes (SIGCONT) and stops it, for tests that SIGSTOP it.
 */
export function spawnConsumerFixture<R>(
  path: string,
  name: string,
  cleanups: Array<() => unknown>,
  mode = "",
): { proc: Subprocess<"ignore", "pipe", "inherit">; reports: R[] } {
  const proc = spawn(["bun", join(import.meta.dir, "consumer-fixture.ts"), path, name, mode], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reports: R[] = [];
  void readLines(proc.stdout, (line) => reports.push(JSON.parse(line) as R));
  cleanups.push(async () => {
    proc.kill("SIGCONT");
    proc.kill("SIGTERM");
    await proc.exited;
  });
  return { proc, reports };
}
