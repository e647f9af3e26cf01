// What the soak samples per process from /proc (Linux): resident memory, open descriptors, sockets among them;
// and the checks over those samples (a least-squares RSS slope after warm-up, descriptor counts flat).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface Sample {
  /** Seconds since the soak started. */
  t: number;
  job: string;
  rssKb: number;
  fds: number;
  sockets: number;
}

/** One process's figures, or null once it is gone. */
export function sampleProcess(pid: number): Omit<Sample, "t" | "job"> | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/^VmRSS:\s*(\d+)\s*kB/m.exec(status)?.[1] ?? Number.NaN);
    let fds = 0;
    let sockets = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      fds++;
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets++;
      } catch {
        // closed between the listing and the readlink
      }
    }
    return { rssKb, fds, sockets };
  } catch {
    return null;
  }
}

export const CSV_HEADER = "t_s,process,rss_kb,fds,sockets";
export const csvRow = (s: Sample) => `${s.t},${s.job},${s.rssKb},${s.fds},${s.sockets}`;

/** Least-squares slope of y over x (per unit of x); 0 for fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface ProcessVerdict {
  job: string;
  rssStartMb: number;
  rssEndMb: number;
  /** MB per 10 minutes, over the samples after warm-up. */
  rssSlopeMbPer10Min: number;
  fdsAfterWarmup: number;
  fdsEnd: number;
  socketsAfterWarmup: number;
  socketsEnd: number;
  ok: boolean;
  problems: string[];
}

export interface Limits {
  warmupS: number;
  /** Largest RSS slope allowed, MB per 10 minutes. */
  slopeMbPer10Min: number;
  /** Descriptors a process may hold above its post-warm-up count at the end (a reconnect in flight). */
  fdSlack: number;
  /** Jobs whose RSS is reported but not checked (the simulator keeps a bounded trade tape by design). */
  rssUnchecked?: readonly string[];
}

/**
 * Per process: RSS start (first sample after warm-up) and end, the slope after warm-up, and descriptors at the
 * end against the end of warm-up. Counts are compared as the minimum of the first and last three samples, so
 * one sample taken mid-reconnect does not read as a leak.
 */
export function verdicts(samples: readonly Sample[], limits: Limits): ProcessVerdict[] {
  const jobs = [...new Set(samples.map((s) => s.job))];
  return jobs.map((job) => {
    const mine = samples.filter((s) => s.job === job);
    const after = mine.filter((s) => s.t >= limits.warmupS);
    const head = after.slice(0, 3);
    const tail = after.slice(-3);
    const min = (xs: Sample[], f: (s: Sample) => number) => Math.min(...xs.map(f));
    const perS = slope(after.map((s) => ({ x: s.t, y: s.rssKb / 1024 })));
    const v: ProcessVerdict = {
      job,
      rssStartMb: round((after[0] ?? mine[0])!.rssKb / 1024),
      rssEndMb: round(mine.at(-1)!.rssKb / 1024),
      rssSlopeMbPer10Min: round(perS * 600),
      fdsAfterWarmup: min(head, (s) => s.fds),
      fdsEnd: min(tail, (s) => s.fds),
      socketsAfterWarmup: min(head, (s) => s.sockets),
      socketsEnd: min(tail, (s) => s.sockets),
      ok: true,
      problems: [],
    };
    if (after.length < 3) v.problems.push(`only ${after.length} samples after warm-up`);
    if (v.rssSlopeMbPer10Min >= limits.slopeMbPer10Min && !limits.rssUnchecked?.includes(job))
      v.problems.push(`RSS grows ${v.rssSlopeMbPer10Min} MB/10 min (limit ${limits.slopeMbPer10Min})`);
    if (v.fdsEnd > v.fdsAfterWarmup + limits.fdSlack)
      v.problems.push(`descriptors ${v.fdsAfterWarmup} → ${v.fdsEnd}`);
    if (v.socketsEnd > v.socketsAfterWarmup + limits.fdSlack)
      v.problems.push(`sockets ${v.socketsAfterWarmup} → ${v.socketsEnd}`);
    v.ok = v.problems.length === 0;
    return v;
  });
}

const round = (x: number) => Math.round(x * 100) / 100;
