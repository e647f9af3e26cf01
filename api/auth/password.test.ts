// Password rules (OWASP): length, no control characters, not only spaces, common passwords refused,
// nothing trimmed, Unicode NFKC-normalised so one password typed two ways is one password.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestApi, type TestApi } from "../test/harness.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ API_LOGIN_MAX_PER_IP: "1000" });
});
afterAll(() => api.close());

let n = 0;
const email = () => `pw${++n}.${Date.now()}@example.com`;
const register = (e: string, password: string) =>
  api.call("POST", "/api/auth/register", { body: { email: e, password } });
const login = (e: string, password: string) =>
  api.call("POST", "/api/auth/login", { body: { email: e, password } });

describe("registration refuses weak passwords with a 422 that says why", () => {
  test.each([
    [" ".repeat(10), "password must be 12 to 256 characters, without control characters, not only spaces"],
    [
      "\u0000".repeat(10),
      "password must be 12 to 256 characters, without control characters, not only spaces",
    ],
    [" ".repeat(16), "password must be 12 to 256 characters, without control characters, not only spaces"],
    [
      "\u0000".repeat(16),
      "password must be 12 to 256 characters, without control characters, not only spaces",
    ],
    [
      "good password\u0000here",
      "password must be 12 to 256 characters, without control characters, not only spaces",
    ],
    ["elevenchars", "password must be 12 to 256 characters, without control characters, not only spaces"],
    ["qwerty123456", "password is one of the most common passwords; choose another"],
    ["QWERTY123456", "password is one of the most common passwords; choose another"],
    ["１２３４５６７８９０１２", "password is one of the most common passwords; choose another"],
  ])("%j", async (password, message) => {
    const res = await register(email(), password);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: "validation", message });
  });

  test("the email address itself is refused as a password", async () => {
    const e = email();
    expect((await register(e, e)).body.message).toBe("password must not be your email address");
  });
});

describe("accepted passwords", () => {
  test("spaces are kept, not trimmed: the padded password is the password", async () => {
    const e = email();
    expect((await register(e, "  padded phrase  ")).status).toBe(201);
    expect((await login(e, "  padded phrase  ")).status).toBe(200);
    expect((await login(e, "padded phrase")).status).toBe(401);
  });

  test("NFKC: full-width letters and the ASCII spelling are the same password", async () => {
    const e = email();
    expect((await register(e, "ｐａｓｓｐｈｒａｓｅ ｎｉｎｅ")).status).toBe(201);
    expect((await login(e, "passphrase nine")).status).toBe(200);
    const composed = email();
    expect((await register(composed, "caf\u00e9 au lait please")).status).toBe(201);
    expect((await login(composed, "cafe\u0301 au lait please")).status).toBe(200);
  });

  test("any printable Unicode is fine", async () => {
    const e = email();
    expect((await register(e, "пароль 密码 🔑 ok")).status).toBe(201);
    expect((await login(e, "пароль 密码 🔑 ok")).status).toBe(200);
  });
});
