// Hostile bodies per auth route: each is a JSON 4xx that says what is wrong, never a 500 or a 2xx.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestApi, type TestApi } from "../test/harness.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ API_LOGIN_MAX_PER_IP: "100000" });
});
afterAll(() => api.close());

const BODIES: [string, unknown][] = [
  ["array", []],
  ["null", "null"],
  ["number", "7"],
  ["string", '"x"'],
  ["truncated", '{"email":'],
  ["NUL in email", { email: "a\u0000b@example.com", password: "long enough password" }],
  ["NUL in password", { email: "nul@example.com", password: "long enough\u0000password" }],
  ["email with spaces", { email: " a @example.com", password: "long enough password" }],
  ["email object", { email: { $ne: "" }, password: "long enough password" }],
  ["huge email", { email: `${"a".repeat(300)}@example.com`, password: "long enough password" }],
  ["password array", { email: "x@example.com", password: ["a", "b"] }],
  ["refreshToken number", { refreshToken: 12 }],
  ["refreshToken huge", { refreshToken: "rt1.".padEnd(200, "A") }],
  ["refreshToken with NUL", { refreshToken: "rt1.\u0000" }],
];
const ROUTES = ["/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout"];

describe("hostile auth bodies", () => {
  const cases = ROUTES.flatMap((route) =>
    BODIES.map(([name, body]): [string, string, unknown] => [route, name, body]),
  );
  test.each(cases)("%s: %s", async (route, _name, body) => {
    const res = await api.call("POST", route, { body, headers: { "x-forwarded-for": "198.51.100.77" } });
    // logout is idempotent: an object body without a token it knows is a 204 by design (nothing to revoke).
    const isObject = typeof body === "object" && body !== null && !Array.isArray(body);
    const ok = route === "/api/auth/logout" && isObject && res.status === 204;
    if (!ok) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(typeof res.body.message).toBe("string");
    }
  });
});
