// The Store in this process's memory (REDIS_URL=memory): for a single-process development run on a machine
// without Redis. Same semantics as RedisStore (store.test.ts runs both), but nothing is shared between
// processes and everything is lost on restart, so production refuses it (config.ts).
import type { AttemptKeys, AttemptLimits, Reservation, RotateResult, Store } from "./store.ts";

interface Entry<T> {
  value: T;
  /** Epoch ms; Infinity = no expiry. */
  expires: number;
}

const SWEEP_EVERY = 1000;

export class MemoryStore implements Store {
  readonly kind = "memory";
  readonly ready = true;
  private readonly data = new Map<string, Entry<unknown>>();
  private writes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.data.clear();
  }

  private read<T>(key: string): Entry<T> | undefined {
    const entry = this.data.get(key) as Entry<T> | undefined;
    if (entry && entry.expires <= this.now()) {
      this.data.delete(key);
      return undefined;
    }
    return entry;
  }

  private write<T>(key: string, value: T, ttlMs: number): Entry<T> {
    // Expired entries are dropped on read and, so memory stays bounded, swept every SWEEP_EVERY writes.
    if (++this.writes % SWEEP_EVERY === 0) for (const k of this.data.keys()) this.read(k);
    const entry = { value, expires: this.now() + ttlMs };
    this.data.set(key, entry);
    return entry;
  }

  async get(key: string): Promise<string | null> {
    return this.read<string>(`cache:${key}`)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.write(`cache:${key}`, value, ttlMs);
  }

  async lock(key: string, ttlMs: number): Promise<boolean> {
    if (this.read(`lock:${key}`)) return false;
    this.write(`lock:${key}`, true, ttlMs);
    return true;
  }

  async unlock(key: string): Promise<void> {
    this.data.delete(`lock:${key}`);
  }

  async startSession(tokenDigest: string, familyId: string, userId: string, ttlMs: number): Promise<void> {
    this.write(`rf:${familyId}`, "active", ttlMs);
    this.write(`rt:${tokenDigest}`, { familyId, userId, used: false }, ttlMs);
  }

  async rotateSession(tokenDigest: string, nextDigest: string, ttlMs: number): Promise<RotateResult> {
    const token = this.read<{ familyId: string; userId: string; used: boolean }>(`rt:${tokenDigest}`);
    if (!token) return { status: "unknown" };
    const family = this.read<string>(`rf:${token.value.familyId}`);
    if (family?.value !== "active") return { status: "revoked" };
    if (token.value.used) {
      family.value = "revoked"; // keeps its expiry, like SET ... KEEPTTL
      return { status: "reused", familyId: token.value.familyId };
    }
    token.value.used = true;
    const { familyId, userId } = token.value;
    this.write(`rt:${nextDigest}`, { familyId, userId, used: false }, ttlMs);
    family.expires = this.now() + ttlMs;
    return { status: "ok", userId, familyId };
  }

  async revokeSession(tokenDigest: string): Promise<string | null> {
    const token = this.read<{ familyId: string }>(`rt:${tokenDigest}`);
    const family = token && this.read<string>(`rf:${token.value.familyId}`);
    if (family) family.value = "revoked";
    return token ? token.value.familyId : null;
  }

  // Single-threaded: each call below runs to completion without awaiting, so it is atomic like the Lua.
  async reserveAttempt(keys: AttemptKeys, limits: AttemptLimits, windowMs: number): Promise<Reservation> {
    const taken: Entry<number>[] = [];
    for (const limit of ["ip", "pair", "account"] as const) {
      const key = keys[limit];
      if (key === undefined) continue;
      const entry = this.increment(`rl:${key}`, windowMs);
      if (entry.value > limits[limit]) {
        // A refused attempt still counts against the address; its pair and account slots are given back.
        if (limit !== "ip") entry.value--;
        for (const t of taken) t.value--;
        return { ok: false, limit, retryMs: Math.max(0, entry.expires - this.now()) };
      }
      if (limit !== "ip") taken.push(entry);
    }
    return { ok: true };
  }

  private increment(key: string, windowMs: number): Entry<number> {
    const entry = this.read<number>(key);
    if (entry) {
      entry.value++;
      return entry;
    }
    return this.write(key, 1, windowMs);
  }

  async clearFailures(pairKey: string, accountKey: string): Promise<void> {
    this.data.delete(`rl:${pairKey}`);
    this.data.delete(`rl:${accountKey}`);
  }
}
