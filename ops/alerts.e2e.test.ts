// The alert rules against the real stack (issue 15): a real Prometheus (Debian package) scrapes the simulator's
// collectors, the relay and the bridge every second while the simulator drops Coinbase's connections and
// corrupts one Kraken book checksum; the matching alerts fire and then resolve. Prometheus evaluates a copy of
// ops/prometheus/rules.yml with every duration divided by 60 (5m windows become 5s), so the test takes seconds.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../lib/testing.ts";
import { type ActiveAlert, scaleDurations, startPrometheus } from "./prometheus.ts";
import { startStack } from "./stack-fixture.ts";

const RULES = readFileSync(join(import.meta.dir, "prometheus/rules.yml"), "utf8");

interface Target {
  labels: Record<string, string>;
  health: string;
}

test("a simulated disconnect and a checksum fault fire TapewireFeedDisconnected and TapewireChecksumFailure, which then resolve", async () => {
  await using stack = await startStack();
  await using prom = await startPrometheus(stack.targets, scaleDurations(RULES, 60));
  const alerts = async () => (await prom.api<{ alerts: ActiveAlert[] }>("alerts")).alerts;
  const firing = (list: ActiveAlert[], name: string, exchange: string) =>
    list.some((a) => a.state === "firing" && a.labels.alertname === name && a.labels.exchange === exchange);
  const active = (list: ActiveAlert[], name: string, exchange: string) =>
    list.some((a) => a.labels.alertname === name && a.labels.exchange === exchange);

  await waitFor(
    async () => {
      const { activeTargets } = await prom.api<{ activeTargets: Target[] }>("targets");
      return activeTargets.length === stack.targets.length && activeTargets.every((t) => t.health === "up");
    },
    { timeoutMs: 30_000, intervalMs: 250, what: "Prometheus to scrape every process" },
  );
  // A quiet start: neither alert is active before the faults.
  await waitFor(
    async () => {
      const ready = await prom.api<{ result: unknown[] }>(
        "query?query=tapewire_collector_checksum_failures_total",
      );
      return ready.result.length === 3;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: "collector series in Prometheus" },
  );
  const before = await alerts();
  expect(active(before, "TapewireFeedDisconnected", "coinbase")).toBe(false);
  expect(active(before, "TapewireChecksumFailure", "kraken")).toBe(false);

  for (const fault of [
    { venue: "coinbase", fault: "disconnect" },
    { venue: "kraken", fault: "corrupt-checksum" },
  ]) {
    const res = await fetch(`${stack.simUrl}/_sim/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(fault),
    });
    expect(res.status).toBeLessThan(300);
  }

  const fired = await waitFor(
    async () => {
      const list = await alerts();
      return firing(list, "TapewireFeedDisconnected", "coinbase") &&
        firing(list, "TapewireChecksumFailure", "kraken")
        ? list
        : null;
    },
    { timeoutMs: 40_000, intervalMs: 250, what: "both alerts to fire" },
  );
  const disconnected = fired.find((a) => a.labels.alertname === "TapewireFeedDisconnected")!;
  expect(disconnected.labels).toMatchObject({ job: "collector-coinbase", severity: "warning" });
  // Only the faulted feeds: Kraken did not disconnect, Coinbase has no checksum.
  expect(active(fired, "TapewireFeedDisconnected", "binance")).toBe(false);
  expect(active(fired, "TapewireChecksumFailure", "coinbase")).toBe(false);

  await waitFor(
    async () => {
      const list = await alerts();
      return (
        !active(list, "TapewireFeedDisconnected", "coinbase") &&
        !active(list, "TapewireChecksumFailure", "kraken")
      );
    },
    { timeoutMs: 40_000, intervalMs: 250, what: "both alerts to resolve" },
  );
}, 120_000);

test("scaleDurations divides for:, range and offset durations, never below two seconds", () => {
  const scaled = scaleDurations("expr: increase(x[5m]) > 0 and y offset 10m\nfor: 1h\nfor: 0m\n", 60);
  expect(scaled).toBe("expr: increase(x[5s]) > 0 and y offset 10s\nfor: 60s\nfor: 2s\n");
});
