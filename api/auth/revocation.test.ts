// Logout and refresh-token reuse end the session's access tokens at once (not at expiry), in this API
// process and in any other sharing the Redis (lib/sessions.ts: key + published sid, which the bridge reads).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { verifyAccessToken } from "../../lib/jwt.ts";
import { isSessionRevoked, SESSION_REVOKED_CHANNEL } from "../../lib/sessions.ts";
import { waitFor } from "../../lib/testing.ts";
import { newUser, startTestApi, TEST_JWT_SECRET, TEST_REDIS_URL, type TestApi } from "../test/harness.ts";

let api: TestApi;
let other: TestApi;
const redis = new Redis(TEST_REDIS_URL);
beforeAll(async () => {
  api = await startTestApi();
  other = await startTestApi({}, api.db); // a second API process on the same database and Redis
});
afterAll(async () => {
  redis.disconnect();
  await other.close();
  await api.close();
});

const me = (app: TestApi, token: string) => app.call("GET", "/api/auth/me", { token });
const sidOf = (token: string) => verifyAccessToken(token, { JWT_SECRET: TEST_JWT_SECRET }).sid!;

describe("session revocation", () => {
  test("logout: the session's access token is refused at once, by every API process", async () => {
    const u = await newUser(api, "logout-access");
    expect((await me(api, u.token)).status).toBe(200);
    expect((await me(other, u.token)).status).toBe(200);
    expect(
      (await api.call("POST", "/api/auth/logout", { body: { refreshToken: u.refreshToken } })).status,
    ).toBe(204);
    for (const app of [api, other]) {
      const res = await me(app, u.token);
      expect(res.status).toBe(401);
      expect(res.body.message).toBe("access token rejected: its session was logged out or revoked");
    }
    // Portfolio routes too (another module using the same guard), and public market routes.
    expect((await api.call("GET", "/api/portfolios", { token: u.token })).status).toBe(401);
    expect((await api.call("GET", "/api/market/instruments", { token: u.token })).status).toBe(401);
    // The shared contract: the key is set with an expiry covering the access-token lifetime.
    expect(await isSessionRevoked(redis, sidOf(u.token))).toBe(true);
    expect(await redis.ttl(`tapewire:session-revoked:${sidOf(u.token)}`)).toBeGreaterThanOrEqual(900);
  });

  test("refresh-token reuse revokes the access tokens of that login, old and new", async () => {
    const u = await newUser(api, "reuse-access");
    const next = await api.call("POST", "/api/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect((await me(api, next.body.accessToken)).status).toBe(200);
    const replay = await api.call("POST", "/api/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect(replay.status).toBe(401);
    expect((await me(api, u.token)).status).toBe(401);
    expect((await me(other, next.body.accessToken)).status).toBe(401);
  });

  test("other sessions of the same user keep working", async () => {
    const u = await newUser(api, "two-logins");
    const second = await api.call("POST", "/api/auth/login", {
      body: { email: u.email, password: u.password },
    });
    await api.call("POST", "/api/auth/logout", { body: { refreshToken: u.refreshToken } });
    expect((await me(api, u.token)).status).toBe(401);
    expect((await me(api, second.body.accessToken)).status).toBe(200);
  });

  test("the sid is published on the channel for long-lived connections (the bridge)", async () => {
    const sub = new Redis(TEST_REDIS_URL);
    const heard: string[] = [];
    sub.on("message", (_channel: string, sid: string) => heard.push(sid));
    await sub.subscribe(SESSION_REVOKED_CHANNEL);
    try {
      const u = await newUser(api, "published");
      await api.call("POST", "/api/auth/logout", { body: { refreshToken: u.refreshToken } });
      await waitFor(() => heard.includes(sidOf(u.token)), "the revoked sid on the channel");
    } finally {
      sub.disconnect();
    }
  });
});
