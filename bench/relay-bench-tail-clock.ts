// CLOCK_MONOTONIC (the clock `perf record -k CLOCK_MONOTONIC` stamps with), absolute sleeps on it, and per-thread
// CPU from /proc, for bench/relay-bench-tail.ts's processes.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_MONOTONIC = 1;
const TIMER_ABSTIME = 1;
const libc = dlopen("libc.so.6", {
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  clock_nanosleep: { args: [FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
});
// Its own ArrayBuffer so the GC never moves what FFI points at.
const ts = new Int32Array(new ArrayBuffer(16));
const tsPtr = ptr(ts);

/** CLOCK_MONOTONIC in ns (a double: exact for ~104 days of uptime). */
export function monoNs(): number {
  libc.symbols.clock_gettime(CLOCK_MONOTONIC, tsPtr);
  return (ts[0]! >>> 0) * 1e9 + ts[2]!;
}

/** Sleep until CLOCK_MONOTONIC reaches `ns` (at once if it has), like uds.c prodpaced. */
export function sleepUntilNs(ns: number): void {
  const sec = Math.floor(ns / 1e9);
  ts[0] = sec;
  ts[1] = 0;
  ts[2] = ns - sec * 1e9;
  ts[3] = 0;
  libc.symbols.clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, tsPtr, null);
}

/** Per thread name ("bun (main)", "JITWorker", "mi-scavenger", ...): [ns on CPU, ns runnable but waiting, slices]. */
export type ThreadTimes = Record<string, [number, number, number]>;

export function threadTimes(): ThreadTimes {
  const out: ThreadTimes = {};
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
      const key = Number(tid) === process.pid ? `${comm} (main)` : comm;
      const [run, wait, slices] = readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8")
        .trim()
        .split(" ")
        .map(Number);
      const t = out[key] ?? [0, 0, 0];
      out[key] = t;
      t[0] += run!;
      t[1] += wait!;
      t[2] += slices!;
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return out;
}

/** Since `before`, per thread name: ms on CPU, ms waiting, slices. */
export function threadTimesSince(
  before: ThreadTimes,
): Record<string, { runMs: number; waitMs: number; slices: number }> {
  const out: Record<string, { runMs: number; waitMs: number; slices: number }> = {};
  for (const [k, [run, wait, n]] of Object.entries(threadTimes())) {
    const b = before[k] ?? [0, 0, 0];
    out[k] = { runMs: (run - b[0]) / 1e6, waitMs: (wait - b[1]) / 1e6, slices: n - b[2] };
  }
  return out;
}
