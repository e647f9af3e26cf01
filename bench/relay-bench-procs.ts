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
  const stdoutDone = readLines(proc.stdout, (l) => {
    try {
      lines.push(JSON.parse(l));
    } catch {
      lines.push({ text: l });
    }
  });
  void readLines(proc.stderr, (l) => {
    if (stderr.length < 200) stderr.push(l);
  });
  return {
    proc,
    lines,
    stderr,
    async line(pred, what, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      let exited = false;
      void stdoutDone.then(() => {
        exited = true;
      });
      for (;;) {
        const found = lines.find(pred);
        if (found) return found;
        if (exited || Date.now() > end) {
          throw new Error(
            `${cmd.join(" ")}: no ${what} (${exited ? "exited" : "timeout"}); stderr: ${stderr.slice(-5).join(" | ")}`,
          );
        }
        await Bun.sleep(2);
      }
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
