// One conformance suite for every Store: the Redis scripts and the in-memory version behave the same.
import { afterAll, describe, expect, test } from "bun:test";
import { waitFor } from "../test/harness.ts";
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
    expect(await store.rotateSession("t1", "x", 60_000)).toEqual({ status: "reused" });
    expect(await store.rotateSession("t3", "t4", 60_000)).toEqual({ status: "revoked" });
    expect(await store.rotateSession("nope", "x", 60_000)).toEqual({ status: "unknown" });

    await store.startSession("s1", "other", "user-2", 60_000);
    await store.revokeSession("s1");
    await store.revokeSession("s1");
    await store.revokeSession("never-issued");
    expect(await store.rotateSession("s1", "s2", 60_000)).toEqual({ status: "revoked" });
  });

  test("attempt counters: per address, failures per account, windows expire", async () => {
    const store = await open();
    const first = await store.countAttempt("ip:a", "acct:x", 10_000);
    expect(first).toMatchObject({ ipCount: 1, failures: 0 });
    expect(first.ipTtlMs).toBeGreaterThan(9000);
    await store.countFailure("acct:x", 10_000);
    await store.countFailure("acct:x", 10_000);
    const third = await store.countAttempt("ip:a", "acct:x", 10_000);
    expect(third).toMatchObject({ ipCount: 2, failures: 2 });
    expect(third.accountTtlMs).toBeGreaterThan(9000);
    await store.clearFailures("acct:x");
    expect((await store.countAttempt("ip:b", "acct:x", 10_000)).failures).toBe(0);
    expect((await store.countAttempt("ip:short", "acct:y", 300)).ipCount).toBe(1);
    expect((await store.countAttempt("ip:short", "acct:y", 300)).ipCount).toBe(2);
    await waitFor(
      async () => (await store.countAttempt("ip:short", "acct:y", 300)).ipCount === 1,
      "window expiry",
    );
  });
});
