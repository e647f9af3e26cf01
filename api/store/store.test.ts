// One conformance suite for every Store: the Redis scripts and the in-memory version behave the same.
import { afterAll, describe, expect, test } from "bun:test";
import { waitFor } from "../../lib/testing.ts";
import { storeFactories } from "./test-stores.ts";

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

describe.each(storeFactories)("Store on %s", (_name, make) => {
  const open = async () => {
    const { store, close } = await make();
    closers.push(close);
    return store;
  };

  test("cache values expire; locks exclude until released or expired", async () => {
    const store = await open();
    expect(await store.get("k")).toBeNull();
    await store.set("k", "v", 60);
    expect(await store.get("k")).toBe("v");
    expect(await store.lock("k", 10_000)).toBe(true);
    expect(await store.lock("k", 10_000)).toBe(false);
    await store.unlock("k");
    expect(await store.lock("k", 40)).toBe(true);
    expect(await store.lock("k", 40)).toBe(false);
    await waitFor(async () => (await store.get("k")) === null, "value expiry");
    await waitFor(() => store.lock("k", 40), "lock expiry");
  });

  test("sessions rotate once; reuse revokes the family; revoke is idempotent", async () => {
    const store = await open();
    await store.startSession("t1", "fam", "user-1", 60_000);
    expect(await store.rotateSession("t1", "t2", 60_000)).toEqual({
      status: "ok",
      userId: "user-1",
      familyId: "fam",
    });
    expect(await store.rotateSession("t2", "t3", 60_000)).toEqual({
      status: "ok",
      userId: "user-1",
      familyId: "fam",
    });
    expect(await store.rotateSession("t1", "x", 60_000)).toEqual({ status: "reused", familyId: "fam" });
    expect(await store.rotateSession("t3", "t4", 60_000)).toEqual({ status: "revoked" });
    expect(await store.rotateSession("nope", "x", 60_000)).toEqual({ status: "unknown" });

    await store.startSession("s1", "other", "user-2", 60_000);
    expect(await store.revokeSession("s1")).toBe("other");
    expect(await store.revokeSession("s1")).toBe("other");
    expect(await store.revokeSession("never-issued")).toBeNull();
    expect(await store.rotateSession("s1", "s2", 60_000)).toEqual({ status: "revoked" });
  });

  test("attempt reservations: address, pair and account limits; refused slots are given back", async () => {
    const store = await open();
    const limits = { ip: 5, pair: 2, account: 3 };
    const keys = (ip: string) => ({ ip: `ip:${ip}`, pair: `pair:x:${ip}`, account: "acct:x" });
    expect(await store.reserveAttempt(keys("a"), limits, 10_000)).toEqual({ ok: true });
    expect(await store.reserveAttempt(keys("a"), limits, 10_000)).toEqual({ ok: true });
    const pair = await store.reserveAttempt(keys("a"), limits, 10_000);
    expect(pair).toMatchObject({ ok: false, limit: "pair" });
    if (!pair.ok) expect(pair.retryMs).toBeGreaterThan(9000);
    // Another address may still try: the account has 2 of 3 failures.
    expect(await store.reserveAttempt(keys("b"), limits, 10_000)).toEqual({ ok: true });
    expect(await store.reserveAttempt(keys("c"), limits, 10_000)).toMatchObject({
      ok: false,
      limit: "account",
    });
    // The refused attempt gave its pair slot back: c's pair has room after the account is cleared.
    await store.clearFailures("pair:x:a", "acct:x");
    expect(await store.reserveAttempt(keys("c"), limits, 10_000)).toEqual({ ok: true });
    expect(await store.reserveAttempt(keys("c"), limits, 10_000)).toEqual({ ok: true });
    // Address a has made 3 attempts; 2 more are allowed, then refused whatever the account.
    const other = (n: number) => ({ ip: "ip:a", pair: `pair:${n}:a`, account: `acct:${n}` });
    expect(await store.reserveAttempt(other(1), limits, 10_000)).toEqual({ ok: true });
    expect(await store.reserveAttempt(other(2), limits, 10_000)).toEqual({ ok: true });
    expect(await store.reserveAttempt(other(3), limits, 10_000)).toMatchObject({ ok: false, limit: "ip" });
    // Address-only attempts (register) and window expiry.
    expect(await store.reserveAttempt({ ip: "ip:short" }, { ip: 1, pair: 1, account: 1 }, 300)).toEqual({
      ok: true,
    });
    expect(await store.reserveAttempt({ ip: "ip:short" }, { ip: 1, pair: 1, account: 1 }, 300)).toMatchObject(
      { ok: false },
    );
    await waitFor(
      async () => (await store.reserveAttempt({ ip: "ip:short" }, { ip: 1, pair: 1, account: 1 }, 300)).ok,
      "window expiry",
    );
  });

  test("concurrent reservations never exceed the limit", async () => {
    const store = await open();
    const results = await Promise.all(
      Array.from({ length: 18 }, () =>
        store.reserveAttempt(
          { ip: "ip:race", pair: "pair:race", account: "acct:race" },
          { ip: 100, pair: 5, account: 50 },
          10_000,
        ),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(5);
  });
});
