import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signAccessToken } from "../../lib/jwt.ts";
import { newUser, scanKeys, startTestApi, TEST_JWT_SECRET, type TestApi } from "../test/harness.ts";

const NEW_PASSWORD_RULE =
  "password must be 12 to 256 characters, without control characters, not only spaces";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({
    API_LOGIN_MAX_PER_ACCOUNT: "3",
    API_LOGIN_MAX_PER_IP: "8",
    API_LOGIN_WINDOW_S: "60",
  });
});
afterAll(() => api.close());

// Each test uses its own client address so the per-IP limit of one test does not leak into another.
let ipSeq = 0;
const fromIp = () => ({ "x-forwarded-for": `203.0.113.${++ipSeq}` });
const register = (email: string, password: string, headers = fromIp()) =>
  api.call("POST", "/api/auth/register", { body: { email, password }, headers });
const login = (email: string, password: string, headers = fromIp()) =>
  api.call("POST", "/api/auth/login", { body: { email, password }, headers });

describe("register and login", () => {
  test("register returns the user without any secret; email is normalized; duplicates are 409", async () => {
    const res = await register("Ada@Example.COM", "correct horse battery");
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["createdAt", "email", "id"]);
    expect(res.body.email).toBe("ada@example.com");
    const dup = await register("ada@example.com", "another long password");
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ error: "email_taken", message: "an account with this email already exists" });
    const [row] = await api.db.sql`SELECT password_hash FROM users WHERE email = 'ada@example.com'`;
    expect(row!.password_hash).toStartWith("$argon2id$");
  });

  test.each([
    [{ email: "nope", password: "long enough pw" }, "email must be a valid email address"],
    [{ email: "a@b.co", password: "short" }, NEW_PASSWORD_RULE],
    [{ email: "a@b.co", password: "x".repeat(257) }, NEW_PASSWORD_RULE],
    [{ email: "a@b.co" }, NEW_PASSWORD_RULE],
    [{ email: 7, password: "long enough pw" }, "email must be a valid email address"],
  ])("register %p -> 422 %s", async (body, message) => {
    const res = await api.call("POST", "/api/auth/register", { body, headers: fromIp() });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: "validation", message });
  });

  test("login returns a bearer session; wrong password and unknown email get the same 401", async () => {
    await register("grace@example.com", "hopper hopper");
    const ok = await login("GRACE@example.com", "hopper hopper");
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      tokenType: "Bearer",
      expiresIn: 900,
      user: { email: "grace@example.com" },
    });
    expect(ok.body.refreshToken).toMatch(/^rt1\./);
    const me = await api.call("GET", "/api/auth/me", { token: ok.body.accessToken });
    expect(me.body.email).toBe("grace@example.com");

    const wrong = await login("grace@example.com", "not the password");
    const unknown = await login("nobody@example.com", "not the password");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  test("bad access tokens are 401 with the reason, before any validation", async () => {
    const u = await newUser(api, "tokens");
    const expired = signAccessToken(
      { sub: u.id },
      { JWT_SECRET: TEST_JWT_SECRET },
      { now: Date.now() / 1000 - 3600, ttlSeconds: 60 },
    );
    const forged = signAccessToken({ sub: u.id }, { JWT_SECRET: "another-secret-of-at-least-32-bytes!!" });
    const cases: [string | undefined, string][] = [
      [undefined, "missing bearer token: send Authorization: Bearer <accessToken>"],
      [expired, "access token rejected: expired"],
      [forged, "access token rejected: bad signature"],
      ["not.a.jwt", "access token rejected: malformed"],
    ];
    for (const [token, message] of cases) {
      const res = await api.call("GET", "/api/portfolios/not-a-uuid", { token });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: "unauthorized", message });
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
    }
  });
});

describe("refresh tokens", () => {
  test("rotate: each refresh token works once and yields a working access token", async () => {
    const u = await newUser(api, "rotate");
    const first = await api.call("POST", "/api/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(u.refreshToken);
    expect((await api.call("GET", "/api/auth/me", { token: first.body.accessToken })).status).toBe(200);
    const second = await api.call("POST", "/api/auth/refresh", {
      body: { refreshToken: first.body.refreshToken },
    });
    expect(second.status).toBe(200);
    // Redis holds digests, not tokens.
    const keys = await scanKeys(api.deps, `${api.prefix}*`);
    const values = await Promise.all(
      keys.filter((k) => k.includes(":rt:")).map((k) => api.deps.redis!.client.hgetall(k)),
    );
    expect(JSON.stringify({ keys, values })).not.toContain(second.body.refreshToken.slice(4));
  });

  test("reusing a refresh token revokes the whole family, including the newest token", async () => {
    const u = await newUser(api, "reuse");
    const next = await api.call("POST", "/api/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect(next.status).toBe(200);
    const replay = await api.call("POST", "/api/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect(replay.status).toBe(401);
    expect(replay.body.message).toBe(
      "refresh token was already used; every session from that login is revoked",
    );
    const victim = await api.call("POST", "/api/auth/refresh", {
      body: { refreshToken: next.body.refreshToken },
    });
    expect(victim.status).toBe(401);
    expect(victim.body.message).toBe("refresh token's session was revoked; log in again");
    // Another login of the same user is a separate family and still works.
    const fresh = await login(u.email, u.password);
    expect(
      (await api.call("POST", "/api/auth/refresh", { body: { refreshToken: fresh.body.refreshToken } }))
        .status,
    ).toBe(200);
  });

  test("logout revokes the session; unknown and malformed tokens are rejected cleanly", async () => {
    const u = await newUser(api, "logout");
    expect(
      (await api.call("POST", "/api/auth/logout", { body: { refreshToken: u.refreshToken } })).status,
    ).toBe(204);
    expect(
      (await api.call("POST", "/api/auth/logout", { body: { refreshToken: u.refreshToken } })).status,
    ).toBe(204);
    const after = await api.call("POST", "/api/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect(after.status).toBe(401);
    const unknown = await api.call("POST", "/api/auth/refresh", {
      body: { refreshToken: `rt1.${"A".repeat(43)}` },
    });
    expect(unknown.body.message).toBe("refresh token is unknown or expired; log in again");
    const malformed = await api.call("POST", "/api/auth/refresh", { body: { refreshToken: "eyJ.x.y" } });
    expect(malformed).toMatchObject({ status: 401, body: { message: "refresh token is malformed" } });
    expect(await api.call("POST", "/api/auth/refresh", { body: {} })).toMatchObject({
      status: 401,
      body: { message: 'no refresh token: send {"refreshToken": ...} or the refresh cookie' },
    });
    expect((await api.call("POST", "/api/auth/refresh", { body: { refreshToken: 7 } })).status).toBe(422);
  });
});

describe("login rate limit", () => {
  test("per account: after 3 failures even the right password is refused with 429 and Retry-After", async () => {
    await register("target@example.com", "the real password");
    for (let i = 0; i < 3; i++)
      expect((await login("target@example.com", `guess number ${i}`)).status).toBe(401);
    const blocked = await login("target@example.com", "the real password");
    expect(blocked.status).toBe(429);
    expect(blocked.body.message).toBe("too many failed login attempts for this account; retry later");
    const retry = Number(blocked.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    // Another account is unaffected.
    await register("bystander@example.com", "bystander pw!");
    expect((await login("bystander@example.com", "bystander pw!")).status).toBe(200);
  });

  test("a success clears the account's failures", async () => {
    await register("forgetful@example.com", "finally right");
    for (let i = 0; i < 2; i++) await login("forgetful@example.com", "wrong wrong wrong");
    expect((await login("forgetful@example.com", "finally right")).status).toBe(200);
    for (let i = 0; i < 2; i++) await login("forgetful@example.com", "wrong wrong wrong");
    expect((await login("forgetful@example.com", "finally right")).status).toBe(200);
  });

  test("per IP: attempts on many accounts from one address are cut off", async () => {
    const ip = fromIp();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push((await login(`spray${i}@example.com`, "password1234", ip)).status);
    expect(statuses.slice(0, 8).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(8)).toEqual([429, 429]);
    expect((await login("spray0@example.com", "password1234", fromIp())).status).toBe(401); // other IPs still get through
  });
});

describe("no secrets in responses or logs", () => {
  test("passwords, hashes, refresh tokens and the signing key never appear", async () => {
    const u = await newUser(api, "secrets");
    await login(u.email, "wrong password here");
    await api.call("POST", "/api/auth/refresh", { body: { refreshToken: u.refreshToken } });
    await api.call("POST", "/api/auth/refresh", { body: { refreshToken: u.refreshToken } }); // reuse: logged? must not leak
    const [row] = await api.db.sql`SELECT password_hash FROM users WHERE id = ${u.id}`;
    const logs = api.logs.join("\n");
    const responses = api.responses.join("\n");
    for (const secret of [u.password, row!.password_hash, TEST_JWT_SECRET]) {
      expect(logs).not.toContain(secret);
      expect(responses).not.toContain(secret);
    }
    expect(logs).not.toContain(u.refreshToken);
    expect(responses).not.toContain("password_hash");
    expect(responses).not.toContain("passwordHash");
  });
});
