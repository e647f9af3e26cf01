// The Store on Redis. Every multi-step operation is one Lua script, so it is atomic across API processes.
// Refresh tokens: hash rt:<digest> {fam, uid, used} and string rf:<family> "active"|"revoked".
// Counters: rl:<key> integers with a window expiry set on the first increment.
import type { RedisHandle } from "./redis-client.ts";
import {
  type AttemptKeys,
  type AttemptLimits,
  type Reservation,
  type RotateResult,
  type Store,
  StoreUnavailableError,
} from "./store.ts";

const ROTATE = `
local fam = redis.call('HGET', KEYS[1], 'fam')
if not fam then return {'unknown'} end
local famKey = ARGV[1] .. fam
if redis.call('GET', famKey) ~= 'active' then return {'revoked'} end
if redis.call('HGET', KEYS[1], 'used') == '1' then
  redis.call('SET', famKey, 'revoked', 'KEEPTTL')
  return {'reused', '', fam}
end
local uid = redis.call('HGET', KEYS[1], 'uid')
redis.call('HSET', KEYS[1], 'used', '1')
redis.call('HSET', KEYS[2], 'fam', fam, 'uid', uid, 'used', '0')
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', famKey, ARGV[2])
return {'ok', uid, fam}`;

const REVOKE = `
local fam = redis.call('HGET', KEYS[1], 'fam')
if not fam then return false end
redis.call('SET', ARGV[1] .. fam, 'revoked', 'KEEPTTL')
return fam`;

// KEYS: ip, pair, account counters; ARGV: window ms, then the limit of each (0 = no such counter).
// Returns {} when the attempt may go ahead, else {index of the refusing counter, its ttl in ms}.
// A refused attempt still counts against the address; its pair and account slots are given back.
const RESERVE = `
for i = 1, 3 do
  local max = tonumber(ARGV[i + 1])
  if max > 0 then
    local n = redis.call('INCR', KEYS[i])
    if n == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
    if n > max then
      for j = 2, i do
        if tonumber(ARGV[j + 1]) > 0 then redis.call('DECR', KEYS[j]) end
      end
      return {i, redis.call('PTTL', KEYS[i])}
    end
  end
end
return {}`;

const LIMIT_NAMES = ["ip", "pair", "account"] as const;

export class RedisStore implements Store {
  readonly kind = "redis";

  constructor(readonly handle: RedisHandle) {}

  get ready(): boolean {
    return this.handle.ready;
  }

  ping(timeoutMs?: number): Promise<boolean> {
    return this.handle.ping(timeoutMs);
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  /** Run a command; a failure is counted, logged (rate-limited) and rethrown as StoreUnavailableError. */
  private async run<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (!this.handle.ready) throw new StoreUnavailableError("redis is not connected");
    try {
      return await op();
    } catch (error) {
      this.handle.failed(what, error);
      throw new StoreUnavailableError(`redis ${what} failed`);
    }
  }

  private k(...parts: string[]): string {
    return this.handle.key(...parts);
  }

  get(key: string): Promise<string | null> {
    return this.run("get", () => this.handle.client.get(this.k("cache", key)));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.run("set", () => this.handle.client.set(this.k("cache", key), value, "PX", ttlMs));
  }

  async lock(key: string, ttlMs: number): Promise<boolean> {
    return (
      (await this.run("lock", () => this.handle.client.set(this.k("lock", key), "1", "PX", ttlMs, "NX"))) !==
      null
    );
  }

  async unlock(key: string): Promise<void> {
    await this.run("unlock", () => this.handle.client.del(this.k("lock", key)));
  }

  async startSession(tokenDigest: string, familyId: string, userId: string, ttlMs: number): Promise<void> {
    await this.run("session-start", () =>
      this.handle.client
        .multi()
        .set(this.k("rf", familyId), "active", "PX", ttlMs)
        .hset(this.k("rt", tokenDigest), { fam: familyId, uid: userId, used: "0" })
        .pexpire(this.k("rt", tokenDigest), ttlMs)
        .exec(),
    );
  }

  async rotateSession(tokenDigest: string, nextDigest: string, ttlMs: number): Promise<RotateResult> {
    const reply = (await this.run("session-rotate", () =>
      this.handle.client.eval(
        ROTATE,
        2,
        this.k("rt", tokenDigest),
        this.k("rt", nextDigest),
        this.k("rf", ""),
        ttlMs,
      ),
    )) as string[];
    const [status, userId, familyId] = reply;
    if (status === "ok" && userId && familyId) return { status, userId, familyId };
    if (status === "reused" && familyId) return { status, familyId };
    return { status: status === "revoked" ? status : "unknown" };
  }

  async revokeSession(tokenDigest: string): Promise<string | null> {
    const fam = await this.run("session-revoke", () =>
      this.handle.client.eval(REVOKE, 1, this.k("rt", tokenDigest), this.k("rf", "")),
    );
    return typeof fam === "string" ? fam : null;
  }

  async reserveAttempt(keys: AttemptKeys, limits: AttemptLimits, windowMs: number): Promise<Reservation> {
    const reply = (await this.run("reserve-attempt", () =>
      this.handle.client.eval(
        RESERVE,
        3,
        this.k("rl", keys.ip),
        this.k("rl", keys.pair ?? "-"),
        this.k("rl", keys.account ?? "-"),
        windowMs,
        limits.ip,
        keys.pair === undefined ? 0 : limits.pair,
        keys.account === undefined ? 0 : limits.account,
      ),
    )) as number[];
    const [index, ttl] = reply;
    if (index === undefined) return { ok: true };
    return { ok: false, limit: LIMIT_NAMES[index - 1] ?? "ip", retryMs: Math.max(0, ttl ?? 0) };
  }

  async clearFailures(pairKey: string, accountKey: string): Promise<void> {
    await this.run("clear-failures", () =>
      this.handle.client.del(this.k("rl", pairKey), this.k("rl", accountKey)),
    );
  }
}
