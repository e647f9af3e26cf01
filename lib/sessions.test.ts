import { afterAll, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { isSessionRevoked, revokeSession, SESSION_REVOKED_CHANNEL, sessionRevokedKey } from "./sessions.ts";
import { waitFor } from "./testing.ts";

const redis = new Redis("redis://127.0.0.1:6379");
const subscriber = new Redis("redis://127.0.0.1:6379");
afterAll(() => {
  redis.disconnect();
  subscriber.disconnect();
});

test("revokeSession sets the key with an expiry and publishes the sid", async () => {
  const sid = `test-${crypto.randomUUID()}`;
  const heard: string[] = [];
  await subscriber.subscribe(SESSION_REVOKED_CHANNEL);
  subscriber.on("message", (channel: string, message: string) => {
    if (channel === SESSION_REVOKED_CHANNEL) heard.push(message);
  });
  expect(await isSessionRevoked(redis, sid)).toBe(false);
  await revokeSession(redis, sid, 900);
  expect(sessionRevokedKey(sid)).toBe(`tapewire:session-revoked:${sid}`);
  expect(await redis.get(sessionRevokedKey(sid))).toBe("1");
  const ttl = await redis.ttl(sessionRevokedKey(sid));
  expect(ttl).toBeGreaterThan(890);
  expect(ttl).toBeLessThanOrEqual(900);
  expect(await isSessionRevoked(redis, sid)).toBe(true);
  await waitFor(() => heard.includes(sid));
  await redis.del(sessionRevokedKey(sid));
});
