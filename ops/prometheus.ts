// Helpers for the operator tests: finding Debian's Prometheus binaries, reading alert and metric names out of
// the rules file, a copy of the rules with every duration scaled down (so an end-to-end test sees alerts fire
// and resolve in seconds while the shipped rules keep production durations), and a Prometheus process.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./stack-fixture.ts";

/** The binary from Debian's prometheus package; a clear failure when it is missing (.ci/run installs it). */
export function requireTool(name: "promtool" | "prometheus"): string {
  const path = Bun.which(name) ?? `/usr/bin/${name}`;
  if (!existsSync(path))
    throw new Error(`${name} is not installed: apt-get install -y prometheus (.ci/run does)`);
  return path;
}

export function alertNames(rulesYaml: string): string[] {
  return [...rulesYaml.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
}

/** Metric names used in the rules' expressions (tapewire_* only; `up` is Prometheus's own). */
export function ruleMetricNames(rulesYaml: string): Set<string> {
  return new Set([...rulesYaml.matchAll(/\btapewire_[a-z0-9_]+/g)].map((m) => m[0]));
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Every duration in `for:` and in range selectors ([5m], offset 10m) divided by `factor`, in whole seconds
 * (at least minSeconds): [5m] → [5s] at 60.
 */
export function scaleDurations(rulesYaml: string, factor: number, minSeconds = 2): string {
  const scale = (n: string, unit: string) =>
    `${Math.max(minSeconds, Math.round((Number(n) * UNIT_SECONDS[unit]!) / factor))}s`;
  return rulesYaml
    .replace(/(for: )(\d+)([smhd])\b/g, (_, p, n, u) => p + scale(n, u))
    .replace(/\[(\d+)([smhd])\]/g, (_, n, u) => `[${scale(n, u)}]`)
    .replace(/(offset )(\d+)([smhd])\b/g, (_, p, n, u) => p + scale(n, u));
}

export interface ScrapeJob {
  job: string;
  address: string;
}

export interface PrometheusProcess extends AsyncDisposable {
  readonly url: string;
  readonly proc: Subprocess;
  /** GET /api/v1/<path> → data. */
  api<T>(path: string): Promise<T>;
}

export interface ActiveAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
}

/** A real Prometheus (scrape and rule evaluation every second) on a temp directory. */
export async function startPrometheus(jobs: ScrapeJob[], rulesYaml: string): Promise<PrometheusProcess> {
  const dir = mkdtempSync(join(tmpdir(), "tw-prometheus-"));
  writeFileSync(join(dir, "rules.yml"), rulesYaml);
  const scrape = jobs
    .map(
      (j) =>
        `  - job_name: ${JSON.stringify(j.job)}\n    static_configs:\n      - targets: [${JSON.stringify(j.address)}]`,
    )
    .join("\n");
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nscrape_configs:\n${scrape}\n`,
  );
  const port = await freePort();
  const proc = Bun.spawn(
    [
      requireTool("prometheus"),
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  const url = `http://127.0.0.1:${port}`;
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}/api/v1/${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    proc,
    api,
    async [Symbol.asyncDispose]() {
      proc.kill("SIGTERM");
      await proc.exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
