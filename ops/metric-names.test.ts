// The dashboard and the alert rules name only metrics that exist (issue 15): the whole stack runs, every
// process is scraped, and each panel query and rule expression is checked against the names actually exported.
// Every process also answers /health and /ready on its metrics port.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../lib/testing.ts";
import { ExportMetrics, ImportMetrics } from "../link/metrics.ts";
import { ruleMetricNames } from "./prometheus.ts";
import { metricNames, type Stack, startStack } from "./stack-fixture.ts";

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

const DASHBOARD = JSON.parse(readFileSync(join(import.meta.dir, "grafana/tapewire.json"), "utf8")) as {
  panels: Panel[];
};
let stack: Stack;
const exported = new Map<string, Set<string>>();

beforeAll(async () => {
  stack = await startStack({ full: true });
  for (const t of stack.targets) {
    // Families appear at start-up (counters pre-created at 0), but give each process its first cycle.
    const names = await waitFor(
      async () => {
        const res = await fetch(`http://${t.address}/metrics`);
        return res.ok ? metricNames(await res.text()) : null;
      },
      { timeoutMs: 20_000, what: `${t.job} /metrics` },
    );
    exported.set(t.job, names);
  }
}, 90_000);
afterAll(() => stack?.[Symbol.asyncDispose](), 30_000);

// The link processes (bun link/main.ts export|import) need NATS and a second relay, so the one-host stack runs
// none: their names come from their own registries, rendered as their /metrics renders them
// (link/metrics.test.ts scrapes the real processes).
const LINK_NAMES = [ExportMetrics, ImportMetrics].flatMap((M) => [...metricNames(new M().registry.render())]);
const everyName = () => new Set([...[...exported.values()].flatMap((s) => [...s]), ...LINK_NAMES]);
const PROMETHEUS_OWN = new Set(["up", "ALERTS"]);

function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(tapewire_[a-z0-9_]+|up|ALERTS)\b/g)].map((m) => m[1]!);
}

test("the stack's processes are all scraped", () => {
  expect([...exported.keys()].sort()).toEqual(
    [
      "api",
      "archiver",
      "bridge",
      "collector-binance",
      "collector-coinbase",
      "collector-kraken",
      "relay",
    ].sort(),
  );
});

test("every dashboard panel queries only metrics some process exports", () => {
  const all = everyName();
  const missing: string[] = [];
  const panels = DASHBOARD.panels.filter((p) => p.type !== "row");
  expect(panels.length).toBeGreaterThan(30);
  for (const p of panels) {
    expect(p.targets?.length ?? 0).toBeGreaterThan(0);
    for (const t of p.targets ?? []) {
      const names = namesIn(t.expr);
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) if (!PROMETHEUS_OWN.has(n) && !all.has(n)) missing.push(`${p.title}: ${n}`);
    }
  }
  expect(missing).toEqual([]);
});

test("the dashboard covers feeds, hot path, relay consumers, bridge clients, database writer, archive, API and link", () => {
  const rows = DASHBOARD.panels.filter((p) => p.type === "row").map((p) => p.title);
  for (const r of [
    "Feeds",
    "Hot path",
    "Relay consumers",
    "Bridge clients",
    "Database writer",
    "Archive",
    "API",
    "Link",
  ])
    expect(rows).toContain(r);
});

test("every alert rule uses only metrics some process exports", () => {
  const all = everyName();
  const used = ruleMetricNames(readFileSync(join(import.meta.dir, "prometheus/rules.yml"), "utf8"));
  expect([...used].filter((n) => !all.has(n))).toEqual([]);
});

test("every process answers /health (200) and /ready (200 or 503, JSON saying why) on its metrics port", async () => {
  for (const t of stack.targets) {
    const health = await fetch(`http://${t.address}/health`);
    expect({ job: t.job, status: health.status }).toEqual({ job: t.job, status: 200 });
    const ready = await fetch(`http://${t.address}/ready`);
    expect([200, 503]).toContain(ready.status);
    const body = (await ready.json()) as { ready: boolean; checks: object };
    expect({ job: t.job, ready: typeof body.ready, checks: typeof body.checks }).toEqual({
      job: t.job,
      ready: "boolean",
      checks: "object",
    });
  }
});
