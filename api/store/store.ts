// The API's small shared state, behind one interface: the response cache, refresh-token sessions and login
// counters. RedisStore is the real one (shared by every API process); MemoryStore (REDIS_URL=memory) keeps it
// in this process for a single-process development run on a machine without Redis. Both pass one
// conformance suite (store.test.ts). Keys here are logical; each store adds its own prefix.

export type RotateResult =
  | { status: "ok"; userId: string; familyId: string }
  /** The token was used before: its family is now revoked. */
  | { status: "reused" }
  | { status: "revoked" }
  | { status: "unknown" };

export interface AttemptCount {
  /** Attempts from this address in the current window, this one included. */
  ipCount: number;
  ipTtlMs: number;
  /** Failures recorded for the account in its current window. */
  failures: number;
  accountTtlMs: number;
}

export interface Store {
  readonly kind: "redis" | "memory";
  /** Connected and able to answer now. */
  readonly ready: boolean;
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;

  /** Cached text, or null. */
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Take a lock for ttlMs; false if someone holds it. */
  lock(key: string, ttlMs: number): Promise<boolean>;
  unlock(key: string): Promise<void>;

  /** Start a session family with its first token (by digest). */
  startSession(tokenDigest: string, familyId: string, userId: string, ttlMs: number): Promise<void>;
  /** Atomically mark a token used and register the next one in its family; reuse revokes the family. */
  rotateSession(tokenDigest: string, nextDigest: string, ttlMs: number): Promise<RotateResult>;
  /** Revoke the family of a token (no-op for unknown tokens). */
  revokeSession(tokenDigest: string): Promise<void>;

  /** Count an attempt against an address and read the account's failures. */
  countAttempt(ipKey: string, accountKey: string, windowMs: number): Promise<AttemptCount>;
  countFailure(accountKey: string, windowMs: number): Promise<void>;
  clearFailures(accountKey: string): Promise<void>;
}

/** Thrown by a store that cannot answer (connection down, command failed): callers pick their fallback. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}
