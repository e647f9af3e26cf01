// The Store on Redis. Every multi-step operation is one Lua script, so it is atomic across API processes.
// Refresh tokens: hash rt:<digest> {fam, uid, used} and string rf:<family> "active"|"revoked".
// Counters: rl:<key> integers with a window expiry set on the first increment.
import type { RedisHandle } from "./redis-client.ts";
import { type AttemptCount, type RotateResult, type Store, StoreUnavailableError } from "./store.ts";

const ROTATE = `
local fam = redis.call('HGET', KEYS[1], 'fam')
if not fam then return {'unknown'} end
local famKey = ARGV[1] .. fam
if redis.call('GET', famKey) ~= 'active' then return {'revoked'} end
if redis.call('HGET', KEYS[1], 'used') == '1' then
  redis.call('SET', famKey, 'revoked', 'KEEPTTL')
  return {'reused'}
end
local uid = redis.call('HGET', KEYS[1], 'uid')
redis.call('HSET', KEYS[1], 'used', '1')
redis.call('HSET', KEYS[2], 'fam', fam, 'uid', uid, 'used', '0')
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', famKey, ARGV[2])
return {'ok', uid, fam}`;

const REVOKE = `
local fam = redis.call('HGET', KEYS[1], 'fam')
if not fam then return 0 end
redis.call('SET', ARGV[1] .. fam, 'revoked', 'KEEPTTL')
return 1`;

const ATTEMPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local f = tonumber(redis.call('GET', KEYS[2]) or '0')
return {n, redis.call('PTTL', KEYS[1]), f, redis.call('PTTL', KEYS[2])}`;

const FAIL = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

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
    return { status: status === "reused" || status === "revoked" ? status : "unknown" };
  }

  async revokeSession(tokenDigest: string): Promise<void> {
    await this.run("session-revoke", () =>
      this.handle.client.eval(REVOKE, 1, this.k("rt", tokenDigest), this.k("rf", "")),
    );
  }

  async countAttempt(ipKey: string, accountKey: string, windowMs: number): Promise<AttemptCount> {
    const reply = (await this.run("count-attempt", () =>
      this.handle.client.eval(ATTEMPT, 2, this.k("rl", ipKey), this.k("rl", accountKey), windowMs),
    )) as number[];
    const [ipCount = 0, ipTtlMs = 0, failures = 0, accountTtlMs = 0] = reply;
    return { ipCount, ipTtlMs, failures, accountTtlMs };
  }

  async countFailure(accountKey: string, windowMs: number): Promise<void> {
    await this.run("count-failure", () =>
      this.handle.client.eval(FAIL, 1, this.k("rl", accountKey), windowMs),
    );
  }

  async clearFailures(accountKey: string): Promise<void> {
    await this.run("clear-failures", () => this.handle.client.del(this.k("rl", accountKey)));
  }
}
