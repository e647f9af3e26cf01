// `bun run bench`: every benchmark of the project, one after another, each in its own process so one run's
// heap, sockets and JIT state do not colour the next. Prints each report as it comes; BENCH_ONLY=parse,api
// runs a subset. The figures in BENCHMARKS.md come from this command.
import { resolve } from "node:path";

const SUITES = [
  { name: "parse", script: "bench/parse.ts", what: "exchange JSON → frames, beside tardis-dev" },
  {
    name: "hotpath",
    script: "bench/hotpath.ts",
    what: "relay, latency, brokers, WebSocket fan-out, DB ingest",
  },
  { name: "api", script: "bench/api.ts", what: "warm API under 200 connections, beside bare Bun.serve" },
] as const;

const root = resolve(import.meta.dir, "..");
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
const unknown = only?.filter((n) => !SUITES.some((s) => s.name === n)) ?? [];
if (unknown.length > 0) {
  console.error(
    `BENCH_ONLY: unknown suite(s) ${unknown.join(", ")}; known: ${SUITES.map((s) => s.name).join(", ")}`,
  );
  process.exit(2);
}

const failed: string[] = [];
for (const suite of SUITES) {
  if (only && !only.includes(suite.name)) continue;
  console.log(`\n## ${suite.name}: ${suite.what}\n`);
  const proc = Bun.spawn(["bun", suite.script], { cwd: root, stdout: "inherit", stderr: "inherit" });
  const code = await proc.exited;
  if (code !== 0) failed.push(`${suite.name} (exit ${code})`);
}
if (failed.length > 0) {
  console.error(`\nbenchmarks failed: ${failed.join(", ")}`);
  process.exit(1);
}
