// Process plumbing for bench/relay-bench.ts: spawn a helper, collect its JSON stdout lines, wait for one.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { readLines } from "../relay/testing.ts";

export const ROOT = join(import.meta.dir, "..");

/** utime + stime of a live process from /proc (Linux), in seconds; NaN elsewhere. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

export interface Helper {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  lines: Record<string, unknown>[];
  stderr: string[];
  /** Resolve with the first JSON line matching `pred`, or reject after `timeoutMs` / on exit. */
  line(
    pred: (l: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  kill(): Promise<void>;
}

export function spawnHelper(cmd: string[], cwd = ROOT, env: Record<string, string> = {}): Helper {
  const proc = Bun.spawn(cmd, {
    cwd,
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  // Waiting line() calls, each checked against every new line as it arrives (no polling).
  const waiters = new Set<{
    pred: (l: Record<string, unknown>) => boolean;
    done: (l: Record<string, unknown> | null) => void;
  }>();
  let exited = false;
  const stdoutDone = readLines(proc.stdout, (l) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(l);
    } catch {
      parsed = { text: l };
    }
    lines.push(parsed);
    for (const w of waiters) if (w.pred(parsed)) w.done(parsed);
  });
  void stdoutDone.then(() => {
    exited = true;
    for (const w of waiters) w.done(null);
  });
  void readLines(proc.stderr, (l) => {
    if (stderr.length < 200) stderr.push(l);
  });
  return {
    proc,
    lines,
    stderr,
    line(pred, what, timeoutMs = 60_000) {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      const fail = (why: string) =>
        new Error(`${cmd.join(" ")}: no ${what} (${why}); stderr: ${stderr.slice(-5).join(" | ")}`);
      if (exited) return Promise.reject(fail("exited"));
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          done(l: Record<string, unknown> | null) {
            waiters.delete(w);
            clearTimeout(timer);
            if (l === null) reject(fail("exited"));
            else resolve(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(fail("timeout"));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    async kill() {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/** Percentile of a sorted array (nearest rank, as uds.c reports it). */
export const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The processes of a relay run by what they do; a layout pins each kind (BENCH_LAYOUT). */
export type Role = "relay" | "producer" | "consumer";

/**
 * CPU placements (`taskset -c`, inherited by every thread and child): `free` leaves it to the scheduler; `split`
 * puts the relay and the producer on CPU 0 and the consumers on CPU 1; `own` gives the relay CPU 0 to itself (the
 * producer and consumers on CPU 1: what a relay pinned to a core of its own gets); `one` puts everything on CPU 0. On this
 * 2-vCPU VM a same-CPU wake-up costs 12-20 µs against ~60 µs across CPUs, so an unpinned run's p50 is a lottery
 * of where each wakee lands; a pinned layout is the same for our relay and the C reference.
 */
export const LAYOUTS: Record<string, Record<Role, string> | null> = {
  free: null,
  split: { relay: "0", producer: "0", consumer: "1" },
  own: { relay: "0", producer: "1", consumer: "1" },
  one: { relay: "0", producer: "0", consumer: "0" },
};

let layoutName = "free";

/** Choose the layout for the processes spawned from now on; throws on an unknown name or too few CPUs. */
export function setLayout(name: string): void {
  const l = LAYOUTS[name];
  if (l === undefined)
    throw new Error(`BENCH_LAYOUT=${name}: expected one of ${Object.keys(LAYOUTS).join(", ")}`);
  if (l !== null) {
    const max = Math.max(...Object.values(l).map(Number));
    if (max >= navigator.hardwareConcurrency)
      throw new Error(`layout ${name} needs CPU ${max}; this machine has ${navigator.hardwareConcurrency}`);
  }
  layoutName = name;
}

export function layout(): string {
  return layoutName;
}

/** The CPU list of `role` in the current layout, or null when unpinned. */
export function layoutCpus(role: Role): string | null {
  return LAYOUTS[layoutName]?.[role] ?? null;
}

/** `cmd` run on the current layout's CPUs for `role` (unchanged when unpinned). */
export function pinned(role: Role, cmd: string[]): string[] {
  const cpus = layoutCpus(role);
  return cpus === null ? cmd : ["taskset", "-c", cpus, ...cmd];
}

/** One line naming the layout, for the bench's output. */
export function describeLayout(name = layoutName): string {
  const l = LAYOUTS[name];
  if (!l) return `${name} (unpinned)`;
  return `${name} (relay CPU ${l.relay}, producer CPU ${l.producer}, consumers CPU ${l.consumer}; taskset -c)`;
}
