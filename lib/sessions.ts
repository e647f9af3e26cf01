// Session revocation shared by the API and the bridge. An access token carries its login's session id
// (`sid`, the refresh-token family); logout and refresh-token reuse revoke that session, and every process
// that accepts access tokens must then refuse them before they expire. Revocation is a Redis key (checked
// per request/connection) plus a PUBLISH on one channel so long-lived connections are cut at once.
// Keys are not deployment-prefixed: the API and the bridge of one deployment share them by name.

export const SESSION_REVOKED_PREFIX = "tapewire:session-revoked:";
/** PUBLISHed message = the revoked sid (plain text). */
export const SESSION_REVOKED_CHANNEL = "tapewire:session-revoked";

export const sessionRevokedKey = (sid: string): string => `${SESSION_REVOKED_PREFIX}${sid}`;

/**
 * The few Redis commands used here, as ioredis (and Bun's RedisClient) spell them, so either client
 * can be passed without an adapter.
 */
export interface SessionRedis {
  set(key: string, value: string, mode: "EX", seconds: number): Promise<unknown>;
  get(key: string): Promise<string | null>;
  publish(channel: string, message: string): Promise<unknown>;
}

/**
 * Mark a session revoked for `ttlS` seconds (give at least the access-token TTL: after that every token
 * of the session has expired anyway) and tell subscribers. The key is written before the PUBLISH, so a
 * subscriber that re-checks on the message sees it.
 */
export async function revokeSession(redis: SessionRedis, sid: string, ttlS: number): Promise<void> {
  if (sid === "") throw new Error("revokeSession: empty sid");
  const seconds = Math.max(1, Math.ceil(ttlS));
  await redis.set(sessionRevokedKey(sid), "1", "EX", seconds);
  await redis.publish(SESSION_REVOKED_CHANNEL, sid);
}

/** True when the session was revoked (and the mark has not expired). Errors from Redis propagate. */
export async function isSessionRevoked(redis: SessionRedis, sid: string): Promise<boolean> {
  return (await redis.get(sessionRevokedKey(sid))) !== null;
}
