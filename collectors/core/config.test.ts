import { expect, test } from "bun:test";
import { ConfigError } from "../../lib/config.ts";
import { readCollectorConfig } from "./config.ts";

test("defaults, and a bad value fails fast naming the variable", () => {
  expect(readCollectorConfig("binance", {})).toEqual({
    relayIn: "run/relay-in.sock",
    natsUrl: undefined,
    bufferFrames: 262_144,
    stateDir: undefined,
    backfill: true,
    metricsPort: 9203,
  });
  expect(() => readCollectorConfig("kraken", { TAPEWIRE_COLLECTOR_BUFFER_FRAMES: "abc" })).toThrow(
    ConfigError,
  );
  expect(() => readCollectorConfig("kraken", { TAPEWIRE_COLLECTOR_BUFFER_FRAMES: "abc" })).toThrow(
    /TAPEWIRE_COLLECTOR_BUFFER_FRAMES="abc": expected an integer/,
  );
  expect(() => readCollectorConfig("coinbase", { COLLECTOR_COINBASE_METRICS_PORT: "70000" })).toThrow(
    /COLLECTOR_COINBASE_METRICS_PORT/,
  );
});

test("the collector process refuses to start on a bad value, naming it (exit 78)", async () => {
  const proc = Bun.spawn(["bun", `${import.meta.dir}/../main.ts`, "kraken"], {
    env: { ...process.env, TAPEWIRE_COLLECTOR_BUFFER_FRAMES: "abc" },
    stderr: "pipe",
    stdout: "pipe",
  });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  expect(code).toBe(78);
  expect(stderr).toContain("TAPEWIRE_COLLECTOR_BUFFER_FRAMES");
});
