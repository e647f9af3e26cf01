// Store factories for the shared suites (store.test.ts, cache.test.ts): real Redis under a fresh key prefix,
// and the in-memory store.
import { randomBytes } from "node:crypto";
import { createLogger } from "../../lib/log.ts";
import { createApiMetrics } from "../metrics.ts";
import { TEST_REDIS_URL, waitFor } from "../test/harness.ts";
import { MemoryStore } from "./memory-store.ts";
import { RedisHandle } from "./redis-client.ts";
import { RedisStore } from "./redis-store.ts";
import type { Store } from "./store.ts";

export type StoreFactory = () => Promise<{ store: Store; close(): Promise<void> }>;

export const storeFactories: [string, StoreFactory][] = [
  [
    "redis",
    async () => {
      const prefix = `twtest:store:${randomBytes(4).toString("hex")}:`;
      const handle = new RedisHandle(
        TEST_REDIS_URL,
        prefix,
        createLogger({}, () => {}),
        createApiMetrics(),
      );
      await waitFor(() => handle.ready, "redis");
      return {
        store: new RedisStore(handle),
        async close() {
          const keys = await handle.client.keys(`${prefix}*`);
          if (keys.length > 0) await handle.client.del(...keys);
          await handle.close();
        },
      };
    },
  ],
  ["memory", async () => ({ store: new MemoryStore(), close: async () => {} })],
];
