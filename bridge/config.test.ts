// Config is read once; a bad value names its variable; loopback by default and no open stream in production.
// Auth: a valid API token upgrades, others get 401.
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
    hostname: "127.0.0.1", // issue 8: it was 0.0.0.0 while the README said 127.0.0.1
    maxTotalBufferedBytes: 32 << 20,
    maxBehindMs: 10_000,
  });
  expect(Object.isFrozen(c)).toBe(true);
  expect(() => loadBridgeConfig({ BRIDGE_PORT: "http" })).toThrow(BridgeConfigError);
  expect(() => loadBridgeConfig({ BRIDGE_PORT: "http" })).toThrow(
    'BRIDGE_PORT="http": expected a port in 0..65535 (0 = any free port)',
  );
  expect(() => loadBridgeConfig({ BRIDGE_REQUIRE_AUTH: "maybe" })).toThrow("BRIDGE_REQUIRE_AUTH");
  expect(() => loadBridgeConfig({ BRIDGE_ALLOWED_ORIGINS: "example.com" })).toThrow("BRIDGE_ALLOWED_ORIGINS");
  expect(
    loadBridgeConfig({ BRIDGE_ALLOWED_ORIGINS: "https://a.example, http://localhost:5173" }).allowedOrigins,
  ).toEqual(["https://a.example", "http://localhost:5173"]);
});

test("NODE_ENV=production refuses to start with neither an origin allowlist nor auth", () => {
  expect(() => loadBridgeConfig({ NODE_ENV: "production" })).toThrow(
    "an origin allowlist or BRIDGE_REQUIRE_AUTH=true when NODE_ENV=production",
  );
  expect(loadBridgeConfig({ NODE_ENV: "production", BRIDGE_REQUIRE_AUTH: "true" }).requireAuth).toBe(true);
  expect(
    loadBridgeConfig({ NODE_ENV: "production", BRIDGE_ALLOWED_ORIGINS: "https://app.example" })
      .allowedOrigins,
  ).toEqual(["https://app.example"]);
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
