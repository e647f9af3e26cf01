// The C reference (../shared/perf/uds.c), compiled with gcc -O2 into the bench's temp dir and run in the same
// benchmark: `fanout` (max throughput through a C relay) and `fanlat` (one-way latency at a paced rate).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { layoutCpus, pinned, ROOT } from "./relay-bench-procs.ts";

export interface CRef {
  bin: string;
  /** bench/relay-bench-ends.c built beside it: a C producer and consumer speaking our relay's protocols. */
  ends: string;
  /** In-rate (frames/s) of `uds fanout NCONS BATCH TOTAL`; throws if any consumer saw a bad sequence. */
  fanout(consumers: number, batch: number, total: number): Promise<number>;
  /** p50/p99/p99.9 in µs of `uds fanlat NCONS RATE N`. */
  fanlat(consumers: number, rate: number, n: number): Promise<{ p50: number; p99: number; p999: number }>;
}

/** The forked children of `pid` (Linux /proc), in pid order. */
function children(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return text === ""
      ? []
      : text
          .split(" ")
          .map(Number)
          .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

/**
 * uds.c `fanout`/`fanlat` fork their roles from one process: the parent is the producer, its first child the
 * relay, the next `consumers` children the consumers; the parent waits 200 ms before it connects. Under a pinned
 * layout the whole process starts on the producer's CPUs and, inside that wait, the relay and the consumers are
 * moved to theirs (pid order is fork order), so the all-C run is placed exactly like ours.
 */
async function placeForked(pid: number, consumers: number): Promise<void> {
  const relayCpus = layoutCpus("relay");
  const consumerCpus = layoutCpus("consumer");
  if (relayCpus === null || consumerCpus === null) return;
  const end = performance.now() + 150;
  let kids = children(pid);
  while (kids.length < consumers + 1) {
    if (performance.now() > end)
      throw new Error(`uds ${pid}: ${kids.length} of ${consumers + 1} children forked`);
    await Bun.sleep(1); // a process's forks have no event to wait on; they come within a few ms
    kids = children(pid);
  }
  kids.forEach((kid, i) => {
    const cpus = i === 0 ? relayCpus : consumerCpus;
    const r = Bun.spawnSync(["taskset", "-pc", cpus, String(kid)], { stdout: "ignore", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`taskset -pc ${cpus} ${kid}: ${r.stderr.toString()}`);
  });
}

async function run(bin: string, cwd: string, args: string[], consumers = 0): Promise<string> {
  const proc = Bun.spawn(pinned("producer", [bin, ...args]), { cwd, stdout: "pipe", stderr: "pipe" });
  if (consumers > 0)
    await placeForked(proc.pid, consumers).catch(async (error) => {
      for (const kid of children(proc.pid)) process.kill(kid, "SIGKILL");
      proc.kill("SIGKILL");
      await proc.exited;
      throw error;
    });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`uds ${args.join(" ")} exited ${code}: ${err}`);
  return out + err;
}

function field(text: string, name: string): number {
  const m = new RegExp(`${name.replace(".", "\\.")}=([0-9.]+)`).exec(text);
  if (!m) throw new Error(`uds output has no ${name}: ${text}`);
  return Number(m[1]);
}

export const c = {
  async build(
    dir: string,
    source = process.env.TAPEWIRE_UDS_C ?? join(ROOT, "..", "shared", "perf", "uds.c"),
  ): Promise<CRef> {
    const bin = join(dir, "uds");
    const ends = join(dir, "relay-bench-ends");
    for (const [out, src] of [
      [bin, source],
      [ends, join(import.meta.dir, "relay-bench-ends.c")],
    ] as const) {
      const gcc = Bun.spawn(["gcc", "-O2", "-o", out, src], { stderr: "pipe" });
      if ((await gcc.exited) !== 0) throw new Error(`gcc failed: ${await new Response(gcc.stderr).text()}`);
    }
    // uds.c binds its sockets relative to the working directory: run it inside the temp dir.
    return {
      bin,
      ends,
      async fanout(consumers, batch, total) {
        const out = await run(
          bin,
          dir,
          ["fanout", String(consumers), String(batch), String(total)],
          consumers,
        );
        if (field(out, "bad") !== 0 || field(out, "delivered") !== total * consumers)
          throw new Error(`C fanout lost frames: ${out}`);
        return field(out, "in_msgs/s");
      },
      async fanlat(consumers, rate, n) {
        const out = await run(bin, dir, ["fanlat", String(consumers), String(rate), String(n)], consumers);
        return { p50: field(out, "p50"), p99: field(out, "p99"), p999: field(out, "p99.9") };
      },
    };
  },
};
