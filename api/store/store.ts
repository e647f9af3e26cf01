// The API's small shared state, behind one interface: the response cache, refresh-token sessions and login
// counters. RedisStore is the real one (shared by every API process); MemoryStore (REDIS_URL=memory) keeps it
// in this process for a single-process development run on a machine without Redis. Both pass one
// conformance suite (store.test.ts). Keys here are logical; each store adds its own prefix.

export type RotateResult =
  | { status: "ok"; userId: string; familyId: string }
  /** The token was used before: its family is now revoked. */
  | { status: "reused"; familyId: string }
  | { status: "revoked" }
  | { status: "unknown" };

/** Counter keys of one login attempt; pair and account are absent for attempts not tied to an account. */
export interface AttemptKeys {
  ip: string;
  pair?: string;
  account?: string;
}

/** Per-window maxima for AttemptKeys (the same fields). */
export interface AttemptLimits {
  ip: number;
  pair: number;
  account: number;
}

export type Reservation = { ok: true } | { ok: false; limit: keyof AttemptKeys; retryMs: number };

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
  /** Revoke the family of a token; returns the family id, or null for unknown tokens. */
  revokeSession(tokenDigest: string): Promise<string | null>;

  /**
   * Atomically count one attempt against the address and reserve a failure slot for the (account,
   * address) pair and the account, each in a window of windowMs. The first counter over its limit
   * refuses the attempt (the refused slots are given back); a reserved slot stays counted as a failure
   * unless the attempt succeeds (clearFailures). Concurrent attempts can therefore never all pass.
   */
  reserveAttempt(keys: AttemptKeys, limits: AttemptLimits, windowMs: number): Promise<Reservation>;
  /** A success: forget the failures of the pair and of the account. */
  clearFailures(pairKey: string, accountKey: string): Promise<void>;
}

/** Thrown by a store that cannot answer (connection down, command failed): callers pick their fallback. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}
