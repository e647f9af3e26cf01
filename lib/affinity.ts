// CPU affinity per process (issue 14): TAPEWIRE_CPUS_<PROCESS> (the Procfile name upper-cased, dashes as
// underscores, e.g. TAPEWIRE_CPUS_COLLECTOR_KRAKEN=1) pins a process to a CPU list such as `0,2-3`. Linux only,
// through sched_setaffinity in libc (bun:ffi). By the time a script runs Bun has already started its own
// threads (JIT, GC, I/O pool), and Linux's affinity is per thread, so every thread in /proc/self/task is pinned;
// threads started later inherit it. Where it cannot apply (not Linux, a CPU that is not present) it logs one
// warning and changes nothing; a malformed value stops the process at start like any bad configuration.
import { readdirSync, readFileSync } from "node:fs";
import { ConfigError } from "./config.ts";
import type { Logger } from "./log.ts";

/** Highest CPU number a mask can name (the kernel's default cpu_set_t holds 1024). */
const MAX_CPUS = 1024;

export function affinityVariable(processName: string): string {
  return `TAPEWIRE_CPUS_${processName.toUpperCase().replace(/-/g, "_")}`;
}

/** `0,2-3` → [0, 2, 3] (sorted, unique); throws with what was expected on anything else. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new Error(`"${part}" is not a CPU number or range`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new Error(`range ${from}-${to} runs backwards`);
    if (to >= MAX_CPUS) throw new Error(`CPU ${to} is above ${MAX_CPUS - 1}`);
    for (let c = from; c <= to; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** [0, 2, 3] → "0,2-3" (the kernel's Cpus_allowed_list spelling). */
export function formatCpuList(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; i++) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? String(cpus[i]) : `${cpus[i]}-${cpus[j]}`);
    i = j;
  }
  return parts.join(",");
}

/** This process's allowed CPUs as the kernel reports them (Linux), or null where /proc is absent. */
export function currentCpuList(statusPath = "/proc/self/status"): string | null {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(statusPath, "utf8"))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** CPUs present and online (Linux /sys), or null where unknown. */
function onlineCpus(): number[] | null {
  try {
    return parseCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8").trim());
  } catch {
    return null;
  }
}

export type AffinityResult =
  | { applied: true; cpus: string; threads: number }
  | { applied: false; reason: "unset" | "unsupported" | "absent-cpu" | "failed"; cpus: string | null };

export interface AffinityOptions {
  env?: Readonly<Record<string, string | undefined>>;
  platform?: NodeJS.Platform;
}

/**
 * Read TAPEWIRE_CPUS_<PROCESS> and pin every thread of this process to it. Call first thing in a main file,
 * before starting servers or workers. Throws ConfigError naming the variable for a malformed value.
 */
export function setAffinityFromEnv(
  processName: string,
  log: Logger,
  opts: AffinityOptions = {},
): AffinityResult {
  const variable = affinityVariable(processName);
  const raw = (opts.env ?? process.env)[variable];
  if (raw === undefined || raw.trim() === "") return { applied: false, reason: "unset", cpus: null };
  let cpus: number[];
  try {
    cpus = parseCpuList(raw);
  } catch (error) {
    throw new ConfigError(processName, [
      { variable, value: raw, expected: `a CPU list such as 0,2-3 (${(error as Error).message})` },
    ]);
  }
  const wanted = formatCpuList(cpus);
  if ((opts.platform ?? process.platform) !== "linux") {
    log.warn("cpu affinity not supported here: running unpinned", {
      variable,
      cpus: wanted,
      platform: opts.platform ?? process.platform,
    });
    return { applied: false, reason: "unsupported", cpus: wanted };
  }
  const online = onlineCpus();
  const absent = online ? cpus.filter((c) => !online.includes(c)) : [];
  if (absent.length > 0) {
    log.warn("cpu affinity names CPUs this machine does not have: running unpinned", {
      variable,
      cpus: wanted,
      absent: formatCpuList(absent),
      online: online ? formatCpuList(online) : null,
    });
    return { applied: false, reason: "absent-cpu", cpus: wanted };
  }
  const failed = pinAllThreads(cpus);
  if (failed.error) {
    log.warn("cpu affinity could not be applied: running unpinned", {
      variable,
      cpus: wanted,
      error: failed.error,
    });
    return { applied: false, reason: "failed", cpus: wanted };
  }
  log.info("cpu affinity applied", { variable, cpus: currentCpuList() ?? wanted, threads: failed.threads });
  return { applied: true, cpus: currentCpuList() ?? wanted, threads: failed.threads };
}

/** setAffinityFromEnv for main files: a malformed value prints the error and exits 78 (EX_CONFIG). */
export function applyAffinity(processName: string, log: Logger, opts: AffinityOptions = {}): AffinityResult {
  try {
    return setAffinityFromEnv(processName, log, opts);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return process.exit(78);
  }
}

function pinAllThreads(cpus: readonly number[]): { threads: number; error?: string } {
  let setaffinity: (tid: number, size: number, mask: Uint8Array) => number;
  try {
    setaffinity = loadSetAffinity();
  } catch (error) {
    return { threads: 0, error: `sched_setaffinity unavailable: ${(error as Error).message}` };
  }
  const mask = new Uint8Array(MAX_CPUS / 8);
  for (const c of cpus) mask[c >> 3]! |= 1 << (c & 7);
  let threads = 0;
  // The thread list can grow while we walk it: a second pass catches a thread started during the first.
  for (let pass = 0; pass < 2; pass++) {
    for (const tid of readdirSync("/proc/self/task").map(Number)) {
      // A thread may exit between the listing and the call; only the main thread's failure counts.
      if (setaffinity(tid, mask.byteLength, mask) !== 0 && tid === process.pid)
        return { threads, error: "sched_setaffinity returned -1 (CPUs outside this cgroup's cpuset?)" };
      if (pass === 0) threads++;
    }
  }
  return { threads };
}

let cachedSetAffinity: ((tid: number, size: number, mask: Uint8Array) => number) | null = null;

function loadSetAffinity(): (tid: number, size: number, mask: Uint8Array) => number {
  if (cachedSetAffinity) return cachedSetAffinity;
  const { dlopen, FFIType, ptr } = require("bun:ffi") as typeof import("bun:ffi");
  let lib: ReturnType<typeof dlopenLibc> | undefined;
  function dlopenLibc(name: string) {
    return dlopen(name, {
      sched_setaffinity: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    });
  }
  let lastError: unknown;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      lib = dlopenLibc(name);
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (!lib) throw lastError;
  const fn = lib.symbols.sched_setaffinity;
  cachedSetAffinity = (tid, size, mask) => fn(tid, size, ptr(mask));
  return cachedSetAffinity;
}

/** Every thread's Cpus_allowed_list (for tests and diagnosis). */
export function threadCpuLists(): string[] {
  return readdirSync("/proc/self/task").flatMap((tid) => {
    const list = currentCpuList(`/proc/self/task/${tid}/status`);
    return list === null ? [] : [list];
  });
}
