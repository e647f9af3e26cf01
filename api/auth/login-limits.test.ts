// Login throttling cannot be raced, and a guesser cannot lock the owner out: failures back off the
// (account, address) pair; the account itself locks only at a much higher count from many addresses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestApi, type TestApi } from "../test/harness.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({
    API_LOGIN_MAX_PER_IP: "100",
    API_LOGIN_MAX_PER_PAIR: "5",
    API_LOGIN_MAX_PER_ACCOUNT: "12",
    API_LOGIN_WINDOW_S: "60",
  });
});
afterAll(() => api.close());

const login = (email: string, password: string, ip: string) =>
  api.call("POST", "/api/auth/login", { body: { email, password }, headers: { "x-forwarded-for": ip } });
const register = (email: string, password: string) =>
  api.call("POST", "/api/auth/register", {
    body: { email, password },
    headers: { "x-forwarded-for": "198.51.100.250" },
  });

describe("login limits", () => {
  test("18 wrong passwords at once to one account from one address: only 5 are tried, 13 get 429", async () => {
    await register("raced@example.com", "the owner's password");
    const statuses = await Promise.all(
      Array.from({ length: 18 }, (_, i) => login("raced@example.com", `guess ${i} is wrong`, "198.51.100.1")),
    ).then((all) => all.map((r) => r.status));
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(13);
  });

  test("a guesser is backed off, the owner from another address still logs in", async () => {
    await register("owner@example.com", "owner knows this one");
    for (let i = 0; i < 5; i++)
      expect((await login("owner@example.com", `wrong ${i}`, "198.51.100.2")).status).toBe(401);
    const blocked = await login("owner@example.com", "owner knows this one", "198.51.100.2");
    expect(blocked.status).toBe(429);
    expect(blocked.body.message).toBe(
      "too many failed login attempts for this account from this address; retry later",
    );
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await login("owner@example.com", "owner knows this one", "198.51.100.3")).status).toBe(200);
  });

  test("many addresses together lock the account at the higher threshold, even for the right password", async () => {
    await register("spread@example.com", "spread the guessing");
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++)
      statuses.push((await login("spread@example.com", "nope nope", `203.0.113.${i}`)).status);
    expect(statuses.slice(0, 12).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(12)).toEqual([429, 429]);
    const owner = await login("spread@example.com", "spread the guessing", "203.0.113.200");
    expect(owner.status).toBe(429);
    expect(owner.body.message).toBe("too many failed login attempts for this account; retry later");
  });

  test("concurrent guesses from many addresses never exceed the account threshold", async () => {
    await register("swarm@example.com", "swarm of guesses");
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login("swarm@example.com", "wrong again", `192.0.2.${i}`)),
    ).then((all) => all.map((r) => r.status));
    expect(statuses.filter((s) => s === 401)).toHaveLength(12);
  });
});
