// What the slowest frames waited for (issue 14, the p99): one paced run at BENCH_RATE (default 10k/s) through our
// relay (TAIL_RELAY=c: the C relay, uds.c `relay`, to look at the Bun ends alone) under BENCH_LAYOUT (default
// split), with a per-frame record from the producer (scheduled time, stamp, write done) and each of 3 consumers
// (seq, latency, arrival), all in CLOCK_MONOTONIC ns, and the CPU each process's threads (main, JITWorker,
// mi-scavenger, ...) ran and waited after the warm-up. With TAIL_PERF=1, `perf sched record -k CLOCK_MONOTONIC`
// covers the measured frames and bench/relay-bench-tail-blame.py says, for every frame over the run's p99, what
// ran on each CPU between its stamp and its arrival (the ends' own threads, the other consumers, the relay, the
// producer catching up, other processes, or nothing: a wake-up).
//
//   flock /work/coord/bench.lock env TAIL_PERF=1 bun bench/relay-bench-tail.ts
//   (BENCH_LATENCY_FRAMES measured frames, default 20000, after the bench's 2 s warm-up; TAIL_OUT=<dir>, default
//   a temp dir; TAPEWIRE_UDS_C as for bench/relay-bench.ts; needs perf and root for TAIL_PERF)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { startRelayProcess, waitFor, waitForFilters } from "../relay/testing.ts";
import { c } from "./relay-bench-c.ts";
import { defaultWarmup } from "./relay-bench-ours.ts";
import {
  describeLayout,
  type Helper,
  percentile,
  pinned,
  setLayout,
  spawnHelper,
} from "./relay-bench-procs.ts";

const CONSUMERS = 3;
const env = process.env;
const rate = Number(env.BENCH_RATE ?? 10_000);
const measured = Number(env.BENCH_LATENCY_FRAMES ?? 20_000);
const warmup = defaultWarmup(rate);
const total = warmup + measured;
const useC = env.TAIL_RELAY === "c";
setLayout(env.BENCH_LAYOUT ?? "split");
const out = env.TAIL_OUT ?? mkdtempSync(join(tmpdir(), "tapewire-tail-"));
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "tapewire-tail-work-"));

interface TailRelay {
  inPath: string;
  outPath: string;
  pid: number;
  /** Resolves once every consumer's filter line has reached the relay (ours; the C relay accepts in order). */
  consumersIn(names: string[]): Promise<void>;
  stop(): Promise<void>;
}

async function startRelay(): Promise<TailRelay> {
  if (useC) {
    const uds = await c.build(work);
    const inPath = join(work, "c-relay-in.sock");
    const outPath = join(work, "c-relay-out.sock");
    const relay = spawnHelper(pinned("relay", [uds.bin, "relay", inPath, outPath, String(CONSUMERS)]), work);
    await waitFor(() => existsSync(inPath) && existsSync(outPath), "C relay sockets");
    return { inPath, outPath, pid: relay.proc.pid, consumersIn: async () => {}, stop: () => relay.kill() };
  }
  const relay = await startRelayProcess({
    dir: work,
    prefix: pinned("relay", []),
    env: { RELAY_METRICS_PORT: "-1" },
  });
  return {
    inPath: relay.inPath,
    outPath: relay.outPath,
    pid: relay.proc.pid,
    consumersIn: (names) => waitForFilters(relay, names),
    stop: async () => {
      await relay.stop();
    },
  };
}

const names = Array.from({ length: CONSUMERS }, (_, i) => `bench-${i}`);
const relay = await startRelay();
const cons: Helper[] = [];
let perf: Subprocess<"ignore", "ignore", "pipe"> | null = null;
try {
  for (const [i, name] of names.entries()) {
    const args = [relay.outPath, name, String(total), String(warmup), join(out, `c${i}.bin`)];
    cons.push(
      spawnHelper(
        pinned("consumer", ["bun", join(import.meta.dir, "relay-bench-tail-consumer.ts"), ...args]),
      ),
    );
  }
  await Promise.all(cons.map((h) => h.line((l) => l.ready === true, "ready")));
  await relay.consumersIn(names);
  const producer = spawnHelper(
    pinned("producer", [
      "bun",
      join(import.meta.dir, "relay-bench-tail-producer.ts"),
      relay.inPath,
      String(total),
      String(rate),
      String(warmup),
      join(out, "p.bin"),
    ]),
  );
  if (env.TAIL_PERF === "1") {
    // From about the end of the warm-up to just before the last frame (start-up of the producer: ~0.2 s).
    await Bun.sleep((warmup / rate) * 1000 + 200);
    const seconds = Math.max(0.5, measured / rate - 0.5);
    perf = Bun.spawn(
      [
        "perf",
        "sched",
        "record",
        "-k",
        "CLOCK_MONOTONIC",
        "-o",
        join(out, "perf.data"),
        "--",
        "sleep",
        String(seconds),
      ],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
    );
  }
  const p = await producer.line((l) => l.t0 !== undefined, "producer result", 120_000);
  const results = await Promise.all(
    cons.map((h) => h.line((l) => l.tLast !== undefined, "consumer result", 120_000)),
  );
  if (perf && (await perf.exited) !== 0)
    throw new Error(`perf sched record: ${await new Response(perf.stderr).text()}`);
  const meta = {
    layout: env.BENCH_LAYOUT ?? "split",
    relay: useC ? "c" : "ours",
    rate,
    warmup,
    measured,
    consumerPids: cons.map((h) => h.proc.pid),
    producerPid: producer.proc.pid,
    relayPid: relay.pid,
    producer: p.threads,
    consumers: results.map((r) => r.threads),
    bad: results.reduce((s, r) => s + (r.bad as number), 0),
  };
  writeFileSync(join(out, "meta.json"), JSON.stringify(meta, null, 2));
  await producer.kill();

  // Latency of the measured frames over every consumer; the producer's lateness and write time.
  const lat = new Float64Array(CONSUMERS * measured);
  for (let i = 0; i < CONSUMERS; i++) {
    const rec = new Float64Array(readFileSync(join(out, `c${i}.bin`)).buffer.slice(0));
    for (let k = 0; k < measured; k++) lat[i * measured + k] = rec[(warmup + k) * 3 + 1]! / 1000;
  }
  lat.sort();
  const prec = new Float64Array(readFileSync(join(out, "p.bin")).buffer.slice(0));
  const late = new Float64Array(measured);
  const write = new Float64Array(measured);
  for (let k = 0; k < measured; k++) {
    const at = (warmup + k) * 3;
    late[k] = (prec[at + 1]! - prec[at]!) / 1000;
    write[k] = (prec[at + 2]! - prec[at + 1]!) / 1000;
  }
  late.sort();
  write.sort();
  const f = (a: Float64Array, q: number) => percentile(a, q).toFixed(1);
  console.log(
    `${describeLayout()}, ${useC ? "C relay (uds.c)" : "our relay"}, ${rate}/s, ${measured} frames × ${CONSUMERS} consumers after ${warmup}; ${meta.bad} out of order`,
  );
  console.log(`latency µs: p50 ${f(lat, 0.5)}, p99 ${f(lat, 0.99)}, p99.9 ${f(lat, 0.999)}`);
  console.log(
    `producer: woke after its scheduled time by p50 ${f(late, 0.5)} / p99 ${f(late, 0.99)} µs; stamp → write returned p50 ${f(write, 0.5)} / p99 ${f(write, 0.99)} µs`,
  );
  const fmt = (t: Record<string, { runMs: number; waitMs: number; slices: number }>) =>
    Object.entries(t)
      .filter(([, v]) => v.slices > 0)
      .map(
        ([k, v]) =>
          `${k} ${v.runMs.toFixed(1)} ms on CPU / ${v.waitMs.toFixed(1)} ms waiting / ${v.slices} slices`,
      )
      .join("; ");
  console.log(`after the warm-up, producer threads: ${fmt(meta.producer as never)}`);
  for (const [i, t] of meta.consumers.entries()) console.log(`consumer ${i} threads: ${fmt(t as never)}`);
  if (perf) {
    const th = Bun.spawnSync(["perf", "sched", "timehist", "-i", join(out, "perf.data")], {
      stderr: "ignore",
    });
    writeFileSync(join(out, "timehist.txt"), th.stdout);
    const py = existsSync(join(import.meta.dir, "../notebooks/.venv/bin/python"))
      ? join(import.meta.dir, "../notebooks/.venv/bin/python")
      : "python3";
    const blame = Bun.spawnSync([py, join(import.meta.dir, "relay-bench-tail-blame.py"), out], {
      stderr: "pipe",
    });
    process.stdout.write(blame.stdout);
    if (blame.exitCode !== 0) console.error(blame.stderr.toString());
  }
  console.log(`records in ${out}`);
} finally {
  perf?.kill();
  await Promise.all(cons.map((h) => h.kill()));
  await relay.stop();
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
