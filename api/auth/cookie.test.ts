// The browser flow: the refresh token in an HttpOnly, SameSite=Strict cookie on /api/auth, refresh and
// logout without a body, an Origin check on every cookie request; the JSON flow for scripts unchanged.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newUser, startTestApi, type TestApi } from "../test/harness.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ API_ALLOWED_ORIGINS: "https://dash.example.com" });
});
afterAll(() => api.close());

const SELF = "http://localhost"; // the harness's request origin
const cookieOf = (res: { headers: Headers }) => res.headers.get("set-cookie") ?? "";
const tokenIn = (setCookie: string) => /tapewire_refresh=([^;]*)/.exec(setCookie)?.[1] ?? "";

async function cookieLogin(origin = SELF) {
  const u = await newUser(api, "cookie");
  const res = await api.call("POST", "/api/auth/login", {
    body: { email: u.email, password: u.password, refreshCookie: true },
    headers: { origin },
  });
  return { u, res };
}

describe("refresh cookie", () => {
  test("login with refreshCookie sets the cookie and keeps the token out of the body", async () => {
    const { res } = await cookieLogin();
    expect(res.status).toBe(200);
    expect(res.body.refreshToken).toBeUndefined();
    expect(res.body.accessToken).toBeString();
    expect(res.headers.get("cache-control")).toBe("no-store");
    const cookie = cookieOf(res);
    expect(cookie).toMatch(/^tapewire_refresh=rt1\.[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain("Path=/api/auth");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Max-Age=2592000");
    expect(cookie).not.toContain("Secure"); // plain http on this origin; https requests get Secure
  });

  test("refresh with only the cookie rotates it; the old cookie is then a reuse", async () => {
    const { res } = await cookieLogin();
    const first = tokenIn(cookieOf(res));
    const next = await api.call("POST", "/api/auth/refresh", {
      headers: { origin: SELF, cookie: `other=1; tapewire_refresh=${first}` },
    });
    expect(next.status).toBe(200);
    expect(next.body.refreshToken).toBeUndefined();
    expect(next.headers.get("cache-control")).toBe("no-store");
    const second = tokenIn(cookieOf(next));
    expect(second).not.toBe(first);
    expect((await api.call("GET", "/api/auth/me", { token: next.body.accessToken })).status).toBe(200);
    const replay = await api.call("POST", "/api/auth/refresh", {
      headers: { origin: SELF, cookie: `tapewire_refresh=${first}` },
    });
    expect(replay.status).toBe(401);
  });

  test("cookie requests need an allowed Origin: own origin and API_ALLOWED_ORIGINS pass, others 403", async () => {
    const { res } = await cookieLogin("https://dash.example.com");
    expect(res.status).toBe(200);
    const token = tokenIn(cookieOf(res));
    for (const headers of <Record<string, string>[]>[
      { cookie: `tapewire_refresh=${token}` },
      { cookie: `tapewire_refresh=${token}`, origin: "https://evil.example" },
      { cookie: `tapewire_refresh=${token}`, origin: "null" },
    ]) {
      const refused = await api.call("POST", "/api/auth/refresh", { headers });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe("forbidden");
    }
    const evilLogin = await cookieLogin("https://evil.example");
    expect(evilLogin.res.status).toBe(403);
    const ok = await api.call("POST", "/api/auth/refresh", {
      headers: { cookie: `tapewire_refresh=${token}`, origin: "https://dash.example.com" },
    });
    expect(ok.status).toBe(200);
  });

  test("logout with the cookie revokes the session, its access token, and clears the cookie", async () => {
    const { res } = await cookieLogin();
    const token = tokenIn(cookieOf(res));
    const out = await api.call("POST", "/api/auth/logout", {
      headers: { origin: SELF, cookie: `tapewire_refresh=${token}` },
    });
    expect(out.status).toBe(204);
    expect(cookieOf(out)).toMatch(
      /^tapewire_refresh=; Path=\/api\/auth; Max-Age=0; HttpOnly; SameSite=Strict/,
    );
    expect((await api.call("GET", "/api/auth/me", { token: res.body.accessToken })).status).toBe(401);
    const after = await api.call("POST", "/api/auth/refresh", {
      headers: { origin: SELF, cookie: `tapewire_refresh=${token}` },
    });
    expect(after.status).toBe(401);
  });

  test("no token at all: refresh is 401 saying what to send; logout is still 204", async () => {
    const res = await api.call("POST", "/api/auth/refresh", { headers: { origin: SELF } });
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('no refresh token: send {"refreshToken": ...} or the refresh cookie');
    expect((await api.call("POST", "/api/auth/logout")).status).toBe(204);
  });

  test("scripts: the JSON flow is unchanged and needs no Origin", async () => {
    const u = await newUser(api, "script");
    const next = await api.call("POST", "/api/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect(next.status).toBe(200);
    expect(next.body.refreshToken).toMatch(/^rt1\./);
    expect(next.headers.get("set-cookie")).toBeNull();
    expect(next.headers.get("cache-control")).toBe("no-store");
  });

  test("Secure is set for https requests (behind a trusted proxy: X-Forwarded-Proto)", async () => {
    const u = await newUser(api, "https");
    const res = await api.call("POST", "/api/auth/login", {
      body: { email: u.email, password: u.password, refreshCookie: true },
      headers: { origin: "https://localhost", "x-forwarded-proto": "https" },
    });
    expect(res.status).toBe(200);
    expect(cookieOf(res)).toContain("; Secure");
  });
});
