// The bridge's probes: /ready says whether it can do its job (relay connected, database reachable, sessions
// watched), and its public port, which may face the network, serves /metrics to loopback callers only.
import { expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { startBridge } from "./bridge.ts";
import { loadBridgeConfig } from "./config.ts";
import { memoryLogger } from "./testing.ts";

function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return undefined;
}

test("/ready is 503 until the relay is connected and the database answers; /health is always 200", async () => {
  let dbUp = false;
  const config = loadBridgeConfig({ BRIDGE_PORT: "0", BRIDGE_METRICS_PORT: "0" });
  await using bridge = await startBridge({
    config,
    log: memoryLogger(),
    databaseReachable: async () => dbUp,
  });
  for (const port of [bridge.port, bridge.metricsPort]) {
    const res = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { relay: false, database: false } });
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  }
  bridge.metrics.relayConnected.set(1);
  dbUp = true;
  const res = await fetch(`http://127.0.0.1:${bridge.metricsPort}/ready`);
  expect(await res.json()).toEqual({ ready: true, checks: { relay: true, database: true } });
  expect(res.status).toBe(200);
});

test("BRIDGE_HOST=0.0.0.0: /metrics on the WebSocket port answers loopback only, the network gets 403", async () => {
  const lan = lanAddress();
  expect(lan).toBeDefined();
  const config = loadBridgeConfig({ BRIDGE_PORT: "0", BRIDGE_HOST: "0.0.0.0", BRIDGE_METRICS_PORT: "-1" });
  await using bridge = await startBridge({ config, log: memoryLogger() });
  expect((await fetch(`http://127.0.0.1:${bridge.port}/metrics`)).status).toBe(200);
  const remote = await fetch(`http://${lan}:${bridge.port}/metrics`);
  expect(remote.status).toBe(403);
  expect((await fetch(`http://${lan}:${bridge.port}/health`)).status).toBe(200);
});
