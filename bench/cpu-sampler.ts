// `bun bench/cpu-sampler.ts <pid>`: the CPU each thread of <pid> and each PostgreSQL process used between start
// and SIGTERM, sampled every 50 ms from /proc (a backend that exits between two samples loses its last < 50 ms).
// Prints one JSON object on exit: { "<group>": seconds }, threads grouped by name, Postgres processes by their
// status line without the client address (e.g. "pg: postgres db COPY").
import { readdirSync, readFileSync } from "node:fs";

const pid = Number(process.argv[2]);
const HZ = 100; // USER_HZ on Linux
const last = new Map<string, { group: string; ticks: number }>();
const first = new Map<string, number>();
const pg = new Map<string, number>();
const out: Record<string, number> = {};
let startup = true;

function stat(path: string): { comm: string; ticks: number } | null {
  try {
    const s = readFileSync(path, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { comm: s.slice(s.indexOf("(") + 1, s.lastIndexOf(")")), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

function sample(): void {
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {}
  for (const t of tasks) {
    const s = stat(`/proc/${pid}/task/${t}/stat`);
    if (!s) continue;
    last.set(`t${t}`, { group: `thread: ${s.comm}`, ticks: s.ticks });
    if (startup) first.set(`t${t}`, s.ticks);
  }
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    const s = stat(`/proc/${p}/stat`);
    if (!s?.comm.startsWith("postgres")) continue;
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " ").trim();
    } catch {}
    // A backend's CPU since the previous sample goes to the statement its status line shows now.
    const status = cmd.match(/\)\s+(.*)$/)?.[1]?.split(" ")[0];
    const group = status ? `pg backend: ${status}` : `pg: ${cmd.replace(/^postgres: (\d+\/main: )?/, "")}`;
    const prev = pg.get(p);
    if (prev === undefined) pg.set(p, startup ? s.ticks : 0);
    const d = s.ticks - (prev ?? (startup ? s.ticks : 0));
    if (d > 0) out[group] = (out[group] ?? 0) + d / HZ;
    pg.set(p, s.ticks);
  }
  startup = false;
}

sample();
const timer = setInterval(sample, 50);
process.on("SIGTERM", () => {
  clearInterval(timer);
  sample();
  // Threads alive at the start count from then; ones born later from zero.
  for (const [k, v] of last) {
    const d = v.ticks - (first.get(k) ?? 0);
    if (d > 0) out[v.group] = (out[v.group] ?? 0) + d / HZ;
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
});
