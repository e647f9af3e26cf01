// Our relay in the benchmark: `bun relay/main.ts`, Bun consumers on relay/client.ts, a Bun producer.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadRelayConfig } from "../relay/config.ts";
import {
  frames as encodeFrames,
  type RelayProcess,
  startRelayProcess,
  waitFor,
  waitForFilters,
} from "../relay/testing.ts";
import { FRAME_SIZE, FrameOffset, Kind } from "../schema/frame.ts";
import type { CRef } from "./relay-bench-c.ts";
import { cpuSeconds, type Helper, percentile, pinned, spawnHelper } from "./relay-bench-procs.ts";

const CONSUMER = join(import.meta.dir, "relay-bench-consumer.ts");
const PRODUCER = join(import.meta.dir, "relay-bench-producer.ts");

/**
 * Called with each relay's pid once its consumers are connected, before the run; the function it returns is
 * awaited after the run, before the relay stops (a profiler or tracer attached to the relay: perf trace, strace).
 */
let attachToRelay: ((pid: number) => Promise<() => Promise<void>>) | null = null;

export function setRelayAttach(fn: typeof attachToRelay): void {
  attachToRelay = fn;
}

export async function withRelay<T>(
  work: string,
  queueBytes: number,
  consumers: number,
  consumerArgs: (i: number, path: string) => string[],
  body: (relayIn: string, cons: Helper[], relayPid: number, relay: RelayProcess) => Promise<T>,
  relayEnv: Record<string, string> = {},
  root?: string,
  /** The consumer program before its arguments (default the Bun consumer; the C ends: [CRef.ends, "cons"]). */
  consumerCmd: string[] = ["bun", CONSUMER],
): Promise<T> {
  // A fresh journal per run: each starts from seq 0 like the producer (the consumers check every seq).
  const dir = mkdtempSync(join(work, "relay-"));
  const relay = await startRelayProcess({
    dir,
    root,
    prefix: pinned("relay", []),
    env: {
      TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES: String(queueBytes),
      RELAY_METRICS_PORT: "-1",
      ...relayEnv,
    },
  });
  const cons: Helper[] = [];
  try {
    for (let i = 0; i < consumers; i++)
      cons.push(spawnHelper(pinned("consumer", [...consumerCmd, ...consumerArgs(i, relay.outPath)])));
    await Promise.all(cons.map((h) => h.line((l) => l.ready === true, "ready")));
    await waitForFilters(
      relay,
      cons.map((_, i) => `bench-${i}`),
    );
    const detach = attachToRelay === null ? null : await attachToRelay(relay.proc.pid);
    try {
      return await body(relay.inPath, cons, relay.proc.pid, relay);
    } finally {
      await detach?.();
    }
  } finally {
    await Promise.all(cons.map((h) => h.kill()));
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** BENCH_QUEUE_BYTES: bytes per consumer queue, "default" (the relay's own, TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES), or "run". */
export function benchQueue(): number | "run" {
  const v = process.env.BENCH_QUEUE_BYTES;
  if (v === undefined || v === "" || v === "run") return "run";
  if (v === "default") return loadRelayConfig({}).consumerQueueBytes;
  const n = Number(v);
  if (!(n >= 4096)) throw new Error(`BENCH_QUEUE_BYTES=${v}: expected bytes (>= 4096), "default" or "run"`);
  return n;
}

/** The max-rate producer's batch: trades on 4 instruments (the seq is set per frame by the producer). */
function producerBatch(batch: number): Uint8Array {
  return encodeFrames(
    Array.from({ length: batch }, (_, i) => ({
      kind: Kind.Trade,
      instrument: 1 + (i % 4),
      price: 100 + i,
      size: 1,
    })),
  );
}

export async function relayThroughput(
  work: string,
  consumers: number,
  frames: number,
  batch: number,
  relayEnv: Record<string, string> = {},
  root?: string,
  /** The C ends (bench/relay-bench-ends.c) instead of the Bun producer and consumers: the relay alone. */
  cEnds?: string,
  /** Per-consumer queue: bytes, or "run" (a whole run's frames, the default); BENCH_QUEUE_BYTES sets it. */
  queue: number | "run" = benchQueue(),
) {
  // The relay never pushes back on a producer: the figure is the rate every consumer sustained end to end
  // (uds.c's relay blocks instead), and no frame may be lost or reordered. By default the queues hold a whole
  // run, so a consumer descheduled for a while on this shared VM is never cut (at the relay's 8 MiB default a
  // Bun consumer was cut in 1 of 5 rounds). That costs the relay: 3 queues of ~290 MB, committed up front, made
  // its reads fault ~2× more here and its CPU per frame rise from ~90 to ~110-130 ns (BENCHMARKS.md, issue 14,
  // fifth session). BENCH_QUEUE_BYTES=default measures at the production 8 MiB; a cut consumer then fails the
  // run (Bun ends) or counts as lost (C ends).
  const queueBytes = queue === "run" ? Math.ceil((frames * FRAME_SIZE) / (1 << 20) + 16) << 20 : queue;
  return withRelay(
    work,
    queueBytes,
    consumers,
    (i, path) =>
      cEnds
        ? [
            path,
            `bench-${i}`,
            String(frames),
            String(FrameOffset.seq),
            String(FrameOffset.kindFlags),
            String(Kind.Status),
          ]
        : ["thru", path, `bench-${i}`, String(frames)],
    async (relayIn, cons, relayPid, relay) => {
      const template = join(work, "producer-batch.bin");
      if (cEnds) writeFileSync(template, producerBatch(batch));
      const relayCpu0 = cpuSeconds(relayPid);
      const wall0 = performance.now();
      const producer = spawnHelper(
        pinned(
          "producer",
          cEnds
            ? [cEnds, "prod", relayIn, template, String(FrameOffset.seq), String(frames)]
            : ["bun", PRODUCER, "max", relayIn, String(frames), String(batch)],
        ),
      );
      try {
        const p = await producer.line((l) => typeof l.t0 === "number", "producer result");
        const results = await Promise.all(
          cons.map((h) => h.line((l) => typeof l.tLast === "number", "consumer result")),
        );
        const wall = (performance.now() - wall0) / 1000;
        // Where the two CPUs went during the run (CPU-seconds per wall second; 1 = one whole CPU).
        const cpu = {
          relay: (cpuSeconds(relayPid) - relayCpu0) / wall,
          producer: (p.cpuS as number) / wall,
          consumers: results.map((r) => (r.cpuS as number) / wall),
        };
        const tLast = Math.max(...results.map((r) => r.tLast as number));
        const delivered = results.reduce((s, r) => s + (r.count as number), 0);
        const bad = results.reduce((s, r) => s + (r.bad as number), 0) + (frames * consumers - delivered);
        // CPU per frame in, ns, per process (the relay's includes its journal's thread-pool writes).
        const nsPerFrame = {
          relay: (cpu.relay * wall * 1e9) / frames,
          producer: ((p.cpuS as number) * 1e9) / frames,
          consumers: results.map((r) => ((r.cpuS as number) * 1e9) / frames),
        };
        const journal = await journalCatchUp(relay, tLast);
        return { inRate: (frames / (tLast - (p.t0 as number))) * 1e9, bad, cpu, nsPerFrame, journal };
      } finally {
        await producer.kill();
      }
    },
    { RELAY_METRICS_PORT: "0", ...relayEnv },
    root,
    cEnds ? [cEnds, "cons"] : undefined,
  );
}

/**
 * The rate above ends at the last consumer's last frame; the journal may still be writing then. Its committed
 * share of the frames (committed ÷ head) at the first look after that, and the ms from that last frame until
 * every frame is committed (NaN with the journal off, Infinity if not within 60 s).
 */
async function journalCatchUp(relay: RelayProcess, tLastNs: number) {
  const look = async () => ({
    committed: await relay.metric("tapewire_relay_journal_committed_position"),
    head: await relay.metric("tapewire_relay_journal_head_position"),
  });
  const first = await look();
  const atEnd = first.committed / first.head;
  const lookMs = Date.now() - tLastNs / 1e6;
  if (Number.isNaN(atEnd)) return { atEnd, lookMs, catchUpMs: Number.NaN };
  let last = first;
  const deadline = Date.now() + 60_000;
  while (last.committed < last.head && Date.now() < deadline) {
    await Bun.sleep(5);
    last = await look();
  }
  const catchUpMs =
    last.committed >= last.head ? Math.max(0, Date.now() - tLastNs / 1e6) : Number.POSITIVE_INFINITY;
  return { atEnd, lookMs, catchUpMs: first.committed >= first.head ? 0 : catchUpMs };
}

/**
 * Frames sent at the paced rate before the measured ones, and left out of the percentiles (still checked for
 * loss and order). Five Bun processes (producer, relay, 3 consumers) tier up their JITs concurrently on 2 vCPUs:
 * counted in 5000-frame windows at 10k/s, the frames over 300 µs are 3-8× the steady rate for the first ~1.5 s
 * and flat after. The old 1000 frames (0.1 s) left most of that start-up transient in a steady-state figure.
 */
export const defaultWarmup = (rate: number): number => Math.max(1000, Math.round(rate * warmupSeconds()));

/** BENCH_WARMUP_S (default 2): the warm-up's length in seconds at the paced rate. */
function warmupSeconds(): number {
  const raw = process.env.BENCH_WARMUP_S;
  if (raw === undefined || raw === "") return 2;
  const s = Number(raw);
  if (!(s >= 0)) throw new Error(`BENCH_WARMUP_S=${raw}: expected seconds (>= 0)`);
  return s;
}

/** One-way latency through our relay: `frames` measured frames per consumer after `warmup` warm-up frames. */
export async function relayLatency(
  work: string,
  consumers: number,
  rate: number,
  frames: number,
  warmup = defaultWarmup(rate),
  relayEnv: Record<string, string> = {},
  root?: string,
  /** The C ends (bench/relay-bench-ends.c `prodpaced` / `lat`) instead of the Bun producer and consumers. */
  cEnds?: string,
) {
  return withRelay(
    work,
    8 << 20, // the default queue
    consumers,
    (i, path) =>
      cEnds
        ? cLatArgs(path, i, warmup + frames, join(work, `lat-${i}.bin`))
        : ["lat", path, `bench-${i}`, String(warmup + frames), join(work, `lat-${i}.bin`)],
    (relayIn, cons) =>
      pacedRun(work, relayIn, cons, rate, frames, warmup, cEnds ? cPacedProducer(work, cEnds) : undefined),
    relayEnv,
    root,
    cEnds ? [cEnds, "lat"] : undefined,
  );
}

/** Arguments of relay-bench-ends `lat` after the mode: our frames' offsets come from schema/frame.ts. */
function cLatArgs(path: string, i: number, total: number, out: string): string[] {
  return [
    path,
    `bench-${i}`,
    String(total),
    String(FrameOffset.seq),
    String(FrameOffset.kindFlags),
    String(Kind.Status),
    String(FrameOffset.tsRecv),
    out,
  ];
}

/** The C paced producer's command (one real trade frame as its template), for pacedRun. */
function cPacedProducer(work: string, ends: string) {
  const template = join(work, "paced-frame.bin");
  writeFileSync(template, producerBatch(1));
  return (inPath: string, total: number, rate: number) => [
    ends,
    "prodpaced",
    inPath,
    template,
    String(FrameOffset.seq),
    String(FrameOffset.tsRecv),
    String(rate),
    String(total),
  ];
}

/**
 * The same Bun producer and consumers through the C relay (`uds relay`): what our endpoints cost on their
 * own, so the relay's share of the latency can be read off. With `cEnds`, the C ends in our frame format
 * (relay-bench-ends.c) instead: the check that they cost what uds.c fanlat's own ends do.
 */
export async function bunEndsViaCRelay(
  work: string,
  uds: CRef,
  consumers: number,
  rate: number,
  frames: number,
  warmup = defaultWarmup(rate),
  cEnds?: string,
) {
  const inPath = join(work, "c-relay-in.sock");
  const outPath = join(work, "c-relay-out.sock");
  const relay = spawnHelper(pinned("relay", [uds.bin, "relay", inPath, outPath, String(consumers)]), work);
  const cons: Helper[] = [];
  try {
    await waitFor(() => existsSync(outPath) && existsSync(inPath), "C relay sockets");
    for (let i = 0; i < consumers; i++) {
      const out = join(work, `lat-${i}.bin`);
      cons.push(
        spawnHelper(
          pinned(
            "consumer",
            cEnds
              ? [cEnds, "lat", ...cLatArgs(outPath, i, warmup + frames, out)]
              : ["bun", CONSUMER, "lat", outPath, `bench-${i}`, String(warmup + frames), out],
          ),
        ),
      );
    }
    await Promise.all(cons.map((h) => h.line((l) => l.ready === true, "ready")));
    // The C relay accepts every consumer before the producer; connected consumers are in its accept queue.
    return await pacedRun(
      work,
      inPath,
      cons,
      rate,
      frames,
      warmup,
      cEnds ? cPacedProducer(work, cEnds) : undefined,
    );
  } finally {
    await Promise.all(cons.map((h) => h.kill()));
    await relay.kill();
    rmSync(inPath, { force: true });
    rmSync(outPath, { force: true });
  }
}

async function pacedRun(
  work: string,
  inPath: string,
  cons: Helper[],
  rate: number,
  frames: number,
  warmup: number,
  /** The producer's command (default the Bun paced producer). */
  producerCmd: (inPath: string, total: number, rate: number) => string[] = (inPath, total, rate) => [
    "bun",
    PRODUCER,
    "paced",
    inPath,
    String(total),
    String(rate),
  ],
) {
  // `warmup` frames first, then `frames` measured ones, all at `rate`, one stream, no pause between them.
  const total = warmup + frames;
  const producer = spawnHelper(pinned("producer", producerCmd(inPath, total, rate)));
  try {
    await producer.line((l) => typeof l.t0 === "number", "producer result");
    const results = await Promise.all(
      cons.map((h) => h.line((l) => typeof l.tLast === "number", "consumer result")),
    );
    // Loss and order are checked over every frame, warm-up included.
    const bad = results.reduce((s, r) => s + (r.bad as number) + total - (r.count as number), 0);
    const all = new Float64Array(cons.length * frames);
    for (let i = 0; i < cons.length; i++) {
      const bytes = readFileSync(join(work, `lat-${i}.bin`));
      const lat = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + total * 8));
      all.set(lat.subarray(warmup), i * frames);
    }
    all.sort();
    const us = (p: number) => percentile(all, p) / 1000;
    return { p50: us(0.5), p99: us(0.99), p999: us(0.999), bad };
  } finally {
    await producer.kill();
  }
}
