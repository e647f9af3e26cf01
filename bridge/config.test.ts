// Config is read once; a bad value names its variable. Auth: a valid API token upgrades, others get 401.
import { expect, test } from "bun:test";
import { signAccessToken } from "../lib/jwt.ts";
import { makeAuthorizer } from "./auth.ts";
import { startBridge } from "./bridge.ts";
import { BridgeConfigError, loadBridgeConfig } from "./config.ts";
import { memoryLogger, TestClient } from "./testing.ts";

test("defaults, and errors that name the variable", () => {
  const c = loadBridgeConfig({});
  expect(c).toMatchObject({
    port: 8080,
    metricsPort: 9400,
    relayPath: "run/relay-out.sock",
    bookSampleMs: 1000,
    batchRows: 5000,
    batchMs: 100,
    spoolDir: ".data/spool",
    requireAuth: false,
    databaseUrl: undefined,
  });
  expect(Object.isFrozen(c)).toBe(true);
  expect(() => loadBridgeConfig({ BRIDGE_PORT: "http" })).toThrow(
    new BridgeConfigError('BRIDGE_PORT="http": expected an integer in 0..65535'),
  );
  expect(() => loadBridgeConfig({ BRIDGE_REQUIRE_AUTH: "maybe" })).toThrow("BRIDGE_REQUIRE_AUTH");
  expect(() => loadBridgeConfig({ BRIDGE_ALLOWED_ORIGINS: "example.com" })).toThrow("BRIDGE_ALLOWED_ORIGINS");
  expect(
    loadBridgeConfig({ BRIDGE_ALLOWED_ORIGINS: "https://a.example, http://localhost:5173" }).allowedOrigins,
  ).toEqual(["https://a.example", "http://localhost:5173"]);
});

test("BRIDGE_REQUIRE_AUTH: an API access token opens the socket; none or a forged one gets 401", async () => {
  const env = { JWT_SECRET: "x".repeat(40) };
  const config = loadBridgeConfig({
    BRIDGE_PORT: "0",
    BRIDGE_HOST: "127.0.0.1",
    BRIDGE_METRICS_PORT: "-1",
    BRIDGE_REQUIRE_AUTH: "true",
  });
  const log = memoryLogger();
  const b = await startBridge({ config, log, authorize: makeAuthorizer(env, log) });
  try {
    const token = signAccessToken({ sub: "user-1" }, env);
    const ok = await TestClient.connect(`ws://127.0.0.1:${b.port}/ws?token=${token}`);
    expect(await ok.request({ op: "subscribe", kinds: ["status"] })).toMatchObject({ type: "subscribed" });
    ok.close();
    expect((await fetch(`http://127.0.0.1:${b.port}/ws`)).status).toBe(401);
    const forged = signAccessToken({ sub: "user-1" }, { JWT_SECRET: "y".repeat(40) });
    expect((await fetch(`http://127.0.0.1:${b.port}/ws?token=${forged}`)).status).toBe(401);
    expect(b.metrics.clientsRejected("bad_token").value).toBe(1);
    expect(log.lines.some((l) => l.reason === "bad_signature")).toBe(true);
  } finally {
    await b.close();
  }
});
