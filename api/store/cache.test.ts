import { afterAll, describe, expect, test } from "bun:test";
import { createLogger } from "../../lib/log.ts";
import { createApiMetrics } from "../metrics.ts";
import { waitFor } from "../test/harness.ts";
import { ResponseCache } from "./cache.ts";
import { MemoryStore } from "./memory-store.ts";
import type { Store } from "./store.ts";
import { storeFactories } from "./test-stores.ts";

const log = createLogger({}, () => {});
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

function counter(value: () => string) {
  const calls = { n: 0 };
  const load = async () => {
    calls.n++;
    await Bun.sleep(10); // long enough for concurrent callers to pile up behind it
    return value();
  };
  return { calls, load };
}

describe.each(storeFactories)("ResponseCache on %s", (_name, make) => {
  let clock = 1_000_000;
  const setup = async () => {
    const { store, close } = await make();
    closers.push(close);
    return { store, cache: new ResponseCache(store, createApiMetrics(), log, () => clock) };
  };
  const stored = (store: Store, key: string) =>
    waitFor(async () => (await store.get(key)) !== null, "stored");

  test("concurrent misses share one load; fresh hits do not load", async () => {
    const { store, cache } = await setup();
    const { calls, load } = counter(() => "v1");
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.getOrLoad("a", 1000, load)));
    expect(new Set(results)).toEqual(new Set(["v1"]));
    expect(calls.n).toBe(1);
    await stored(store, "a");
    expect(await cache.getOrLoad("a", 1000, load)).toBe("v1");
    expect(calls.n).toBe(1);
  });

  test("after the TTL the stale text is served at once and exactly one refresh runs", async () => {
    const { store, cache } = await setup();
    let version = "old";
    const { calls, load } = counter(() => version);
    await cache.getOrLoad("b", 1000, load);
    await stored(store, "b");
    version = "new";
    clock += 1500; // past the TTL, inside the grace period
    const served = await Promise.all(Array.from({ length: 10 }, () => cache.getOrLoad("b", 1000, load)));
    expect(served.every((s) => s === "old")).toBe(true);
    await waitFor(async () => (await cache.getOrLoad("b", 1000, load)) === "new", "refresh");
    expect(calls.n).toBe(2);
  });

  test("a failing refresh keeps serving the stale text and is logged", async () => {
    const { store } = await setup();
    const lines: string[] = [];
    const cache = new ResponseCache(
      store,
      createApiMetrics(),
      createLogger({}, (l) => lines.push(l)),
      () => clock,
    );
    await cache.getOrLoad("c", 1000, async () => "good");
    await stored(store, "c");
    clock += 1500;
    expect(await cache.getOrLoad("c", 1000, () => Promise.reject(new Error("db down")))).toBe("good");
    await waitFor(
      () => lines.some((l) => l.includes("cache refresh failed") && l.includes("db down")),
      "log",
    );
  });

  test("a fresh key is served from process memory: one store read per TTL, not per request", async () => {
    const { store } = await setup();
    let reads = 0;
    const counting: Store = Object.assign(Object.create(store), {
      get: (k: string) => {
        reads++;
        return store.get(k);
      },
    });
    const writer = new ResponseCache(store, createApiMetrics(), log, () => clock);
    const reader = new ResponseCache(counting, createApiMetrics(), log, () => clock); // another process
    let version = "one";
    await writer.getOrLoad("f", 1000, async () => version);
    await stored(store, "f");
    const { calls, load } = counter(() => "reader must not load");
    for (let i = 0; i < 50; i++) expect(await reader.getOrLoad("f", 1000, load)).toBe("one");
    expect(reads).toBe(1);
    expect(calls.n).toBe(0);
    // The writer refreshes after the TTL; the reader's copy went stale at the same moment and it reads again.
    version = "two";
    clock += 1500;
    await writer.getOrLoad("f", 1000, async () => version); // stale: triggers the refresh
    await waitFor(
      async () => (await writer.getOrLoad("f", 1000, async () => version)) === "two",
      "writer refresh",
    );
    await waitFor(async () => (await reader.getOrLoad("f", 1000, load)) === "two", "reader sees it");
    expect(calls.n).toBeLessThanOrEqual(1); // at most its own one refresh attempt, lost to the writer's lock or not
  });

  test("ttl 0 always loads", async () => {
    const { cache } = await setup();
    const { calls, load } = counter(() => "x");
    await cache.getOrLoad("d", 0, load);
    await cache.getOrLoad("d", 0, load);
    expect(calls.n).toBe(2);
  });
});

test("a store that is down is bypassed: every request loads, none fails", async () => {
  const down: Store = Object.assign(new MemoryStore(), { ready: false });
  const metrics = createApiMetrics();
  const cache = new ResponseCache(down, metrics, log);
  const { calls, load } = counter(() => "fresh");
  expect(await cache.getOrLoad("e", 1000, load)).toBe("fresh");
  expect(await cache.getOrLoad("e", 1000, load)).toBe("fresh");
  expect(calls.n).toBe(2);
  expect(metrics.registry.render()).toContain('tapewire_api_cache_total{result="bypass"} 2');
});
