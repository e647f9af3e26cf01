// Authenticated WebSockets end with their login (issue 8: a connection kept streaming after its token expired):
// closed at the token's exp, closed when the API revokes the session (real Redis: the key and the PUBLISH of
// lib/sessions.ts), and a revoked session cannot connect again.
import { afterAll, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { signAccessToken } from "../lib/jwt.ts";
import { revokeSession } from "../lib/sessions.ts";
import { waitFor } from "../lib/testing.ts";
import { makeAuthorizer } from "./auth.ts";
import { type Bridge, startBridge } from "./bridge.ts";
import { SESSION_REVOKED_CLOSE_CODE, TOKEN_EXPIRED_CLOSE_CODE } from "./clients.ts";
import { loadBridgeConfig } from "./config.ts";
import { watchRevocations } from "./revocations.ts";
import { memoryLogger, TestClient } from "./testing.ts";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const env = { JWT_SECRET: "s".repeat(40) };
const admin = new Redis(REDIS_URL);
afterAll(() => admin.disconnect());

async function authBridge() {
  const config = loadBridgeConfig({
    BRIDGE_PORT: "0",
    BRIDGE_METRICS_PORT: "-1",
    BRIDGE_REQUIRE_AUTH: "true",
    REDIS_URL,
  });
  const log = memoryLogger();
  let hub: Bridge["hub"] | null = null;
  const watch = watchRevocations({
    url: REDIS_URL,
    log,
    onRevoked: (sid) => hub?.revokeSession(sid),
    sessions: () => hub?.sessions.sessions() ?? [],
  });
  const bridge = await startBridge({
    config,
    log,
    authorize: makeAuthorizer(env, log, watch.redis),
    readyChecks: () => ({ sessions: watch.ready }),
  });
  hub = bridge.hub;
  await waitFor(() => watch.ready, "the revocation watch to subscribe");
  return {
    bridge,
    url: (token: string) => `ws://127.0.0.1:${bridge.port}/ws?token=${token}`,
    async [Symbol.asyncDispose]() {
      await bridge.close();
      await watch.close();
    },
  };
}

test("a revoked session's sockets are closed with session_revoked; its tokens cannot connect again", async () => {
  await using b = await authBridge();
  const sid = `sid-${crypto.randomUUID()}`;
  const token = signAccessToken({ sub: "user-1", sid }, env);
  const other = signAccessToken({ sub: "user-1", sid: `sid-${crypto.randomUUID()}` }, env);
  await using first = await TestClient.connect(b.url(token));
  await using second = await TestClient.connect(b.url(token));
  await using unrelated = await TestClient.connect(b.url(other));
  expect(await first.request({ op: "subscribe", kinds: ["status"] })).toMatchObject({ type: "subscribed" });

  await revokeSession(admin, sid, 60);
  await first.waitFor(() => first.closed !== null);
  await second.waitFor(() => second.closed !== null);
  expect(first.closed?.code).toBe(SESSION_REVOKED_CLOSE_CODE);
  expect(first.of("error").at(-1)).toMatchObject({ code: "session_revoked" });
  expect(second.closed?.code).toBe(SESSION_REVOKED_CLOSE_CODE);
  expect(unrelated.closed).toBeNull();
  expect(await unrelated.request({ op: "subscribe", kinds: ["trade"] })).toMatchObject({
    type: "subscribed",
  });
  expect(b.bridge.metrics.authClosed("session_revoked").value).toBe(2);

  const again = await fetch(`http://127.0.0.1:${b.bridge.port}/ws?token=${token}`);
  expect(again.status).toBe(401);
  expect(await again.text()).toContain("this login was ended");
  expect(b.bridge.metrics.clientsRejected("session_revoked").value).toBe(1);
});

test("a socket is closed with token_expired when its access token expires", async () => {
  await using b = await authBridge();
  const token = signAccessToken({ sub: "user-2", sid: `sid-${crypto.randomUUID()}` }, env, { ttlSeconds: 2 });
  const exp = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).exp as number;
  await using c = await TestClient.connect(b.url(token));
  await c.waitFor(() => c.closed !== null, 5000);
  expect(c.closed?.code).toBe(TOKEN_EXPIRED_CLOSE_CODE);
  expect(c.of("error").at(-1)).toMatchObject({ code: "token_expired" });
  // At exp, not long after (the timer, not a poll).
  expect(Date.now()).toBeLessThan(exp * 1000 + 500);
  expect(b.bridge.metrics.authClosed("token_expired").value).toBe(1);
});

test("Redis unreachable at connect: the session cannot be checked, so the connection is refused (503)", async () => {
  const log = memoryLogger();
  const down = new Redis("redis://127.0.0.1:1", {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  });
  down.on("error", () => {}); // refused connections are the point here
  const config = loadBridgeConfig({
    BRIDGE_PORT: "0",
    BRIDGE_METRICS_PORT: "-1",
    BRIDGE_REQUIRE_AUTH: "true",
  });
  await using bridge = await startBridge({ config, log, authorize: makeAuthorizer(env, log, down) });
  const token = signAccessToken({ sub: "user-3", sid: "sid-x" }, env);
  const res = await fetch(`http://127.0.0.1:${bridge.port}/ws?token=${token}`);
  expect(res.status).toBe(503);
  expect(bridge.metrics.clientsRejected("session_check").value).toBe(1);
  down.disconnect();
});
