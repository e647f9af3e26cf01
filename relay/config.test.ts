// Relay settings: defaults, and a bad value fails naming the variable (also through the real process).
import { expect, test } from "bun:test";
import { ConfigError, loadRelayConfig } from "./config.ts";
import { startRelayProcess } from "./testing.ts";

test("defaults, and units on sizes and durations", () => {
  const c = loadRelayConfig({});
  expect([c.consumerQueueBytes, c.slowGraceMs, c.latencySampleEvery, c.journalDir]).toEqual([
    8 << 20,
    5000,
    64,
    ".data/journal",
  ]);
  const d = loadRelayConfig({
    TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES: "16MiB",
    TAPEWIRE_JOURNAL_FSYNC_MS: "1s",
  });
  expect([d.consumerQueueBytes, d.fsyncMs]).toEqual([16 << 20, 1000]);
  expect(Object.isFrozen(d)).toBe(true);
});

test.each([
  ["TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES", "abc"],
  ["TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES", "100"],
  ["TAPEWIRE_RELAY_LATENCY_SAMPLE", "48"],
  ["TAPEWIRE_RELAY_SLOW_GRACE_MS", "-1"],
  ["RELAY_METRICS_PORT", "70000"],
  ["TAPEWIRE_JOURNAL", "maybe"],
  ["TAPEWIRE_JOURNAL_FSYNC_MS", "1.5"],
])("%s=%s is refused, naming the variable", (name, value) => {
  expect(() => loadRelayConfig({ [name]: value })).toThrow(ConfigError);
  expect(() => loadRelayConfig({ [name]: value })).toThrow(name);
});

test("the relay process refuses to start on a bad value and says which", async () => {
  const failed = startRelayProcess({ env: { TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES: "abc" } });
  await expect(failed).rejects.toThrow("TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES");
});
