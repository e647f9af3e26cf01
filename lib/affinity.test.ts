import { expect, test } from "bun:test";
import { join } from "node:path";
import fc from "fast-check";
import {
  affinityVariable,
  currentCpuList,
  formatCpuList,
  parseCpuList,
  setAffinityFromEnv,
} from "./affinity.ts";
import { ConfigError } from "./config.ts";
import { createLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { runToExit } from "./testing.ts";

const FIXTURE = join(import.meta.dir, "affinity-child-fixture.ts");
const linux = process.platform === "linux";

function logSink() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger({}, (l) => lines.push(JSON.parse(l))) };
}

async function runChild(processName: string, env: Record<string, string>) {
  return runToExit(["bun", FIXTURE, processName], { env });
}

test("the variable is the Procfile name upper-cased with dashes as underscores", () => {
  expect(affinityVariable("collector-kraken")).toBe("TAPEWIRE_CPUS_COLLECTOR_KRAKEN");
  expect(affinityVariable("relay")).toBe("TAPEWIRE_CPUS_RELAY");
});

test("CPU lists parse lists and ranges and print back in the kernel's spelling", () => {
  expect(parseCpuList("0,2-3")).toEqual([0, 2, 3]);
  expect(parseCpuList(" 3 , 1-2,2")).toEqual([1, 2, 3]);
  expect(formatCpuList([0, 2, 3, 4, 7])).toBe("0,2-4,7");
  for (const bad of ["", "a", "1-", "3-1", "1,,2", "0-1024", "-1"]) expect(() => parseCpuList(bad)).toThrow();
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1023 }), { minLength: 1 }), (cpus) => {
      const sorted = [...cpus].sort((a, b) => a - b);
      expect(parseCpuList(formatCpuList(sorted))).toEqual(sorted);
    }),
  );
});

test("a malformed value fails fast naming the variable", () => {
  const { log } = logSink();
  const run = () =>
    setAffinityFromEnv("collector-kraken", log, { env: { TAPEWIRE_CPUS_COLLECTOR_KRAKEN: "0-x" } });
  expect(run).toThrow(ConfigError);
  expect(run).toThrow(/TAPEWIRE_CPUS_COLLECTOR_KRAKEN="0-x": expected a CPU list/);
});

test("a malformed value stops a main file with exit 78 and the variable on stderr", async () => {
  const { code, err } = await runChild("relay", { TAPEWIRE_CPUS_RELAY: "zero" });
  expect(code).toBe(78);
  expect(err).toContain('TAPEWIRE_CPUS_RELAY="zero"');
});

test("unset changes nothing and logs nothing", () => {
  const { lines, log } = logSink();
  const before = currentCpuList();
  expect(setAffinityFromEnv("relay", log, { env: {} })).toEqual({
    applied: false,
    reason: "unset",
    cpus: null,
  });
  expect(lines).toEqual([]);
  expect(currentCpuList()).toBe(before);
});

test("off Linux it is a no-op with one warning", () => {
  const { lines, log } = logSink();
  const before = currentCpuList();
  const r = setAffinityFromEnv("relay", log, { env: { TAPEWIRE_CPUS_RELAY: "0" }, platform: "darwin" });
  expect(r).toEqual({ applied: false, reason: "unsupported", cpus: "0" });
  expect(lines.map((l) => [l.level, l.variable])).toEqual([["warn", "TAPEWIRE_CPUS_RELAY"]]);
  expect(currentCpuList()).toBe(before);
});

test.if(linux)("a CPU the machine does not have is a no-op with one warning", () => {
  const { lines, log } = logSink();
  const before = currentCpuList();
  const r = setAffinityFromEnv("relay", log, { env: { TAPEWIRE_CPUS_RELAY: "0,1023" } });
  expect(r).toEqual({ applied: false, reason: "absent-cpu", cpus: "0,1023" });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: "warn", variable: "TAPEWIRE_CPUS_RELAY", absent: "1023" });
  expect(currentCpuList()).toBe(before);
});

test.if(linux)(
  "a child pinned to CPU 0 has every thread, a later Worker's too, on CPU 0, and says so in /metrics",
  async () => {
    const { code, out, err } = await runChild("collector-kraken", { TAPEWIRE_CPUS_COLLECTOR_KRAKEN: "0" });
    expect(code, err).toBe(0);
    const seen = JSON.parse(out) as {
      result: { applied: boolean };
      status: string;
      threads: string[];
      metric: string;
    };
    expect(seen.result.applied).toBe(true);
    expect(seen.status).toBe("0");
    expect(seen.threads.length).toBeGreaterThan(1);
    expect(new Set(seen.threads)).toEqual(new Set(["0"]));
    expect(seen.metric).toBe('tapewire_process_cpu_affinity{cpus="0"} 1');
    expect(err).toContain('"msg":"cpu affinity applied"');
  },
);

test.if(linux)("an unpinned process reports the CPUs it may use", () => {
  const text = new MetricsRegistry().render();
  expect(text).toContain(`tapewire_process_cpu_affinity{cpus="${currentCpuList()}"} 1`);
});
