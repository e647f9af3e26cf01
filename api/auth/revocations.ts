// Revoked login sessions (lib/sessions.ts is the contract shared with the bridge). Every request with an
// access token asks Redis whether its session was revoked: one GET. Revocations this process makes or
// hears on the channel are also kept in memory until every token of that session has expired, so with
// Redis down the sessions known to be revoked stay refused (and the others keep working, as portfolios
// need no Redis). With REDIS_URL=memory the memory set is all there is (a single process).
import { Redis } from "ioredis";
import type { Logger } from "../../lib/log.ts";
import { isSessionRevoked, revokeSession, SESSION_REVOKED_CHANNEL } from "../../lib/sessions.ts";
import { StoreUnavailableError } from "../store/store.ts";

const SWEEP_MS = 60_000;

export class SessionRevocations {
  /** sid -> epoch ms after which the mark can be forgotten. */
  private readonly known = new Map<string, number>();
  private subscriber: Redis | null = null;
  private sweepTimer: Timer | undefined;
  /** How long a revocation is kept: at least the access-token lifetime. */
  readonly ttlS: number;

  constructor(
    /** The API's command connection, or null with REDIS_URL=memory. */
    private readonly redis: Redis | null,
    accessTtlS: number,
    private readonly log: Logger,
  ) {
    this.ttlS = Math.max(60, accessTtlS + 60);
  }

  /** Subscribe to revocations published by other API processes; safe to skip in tests. */
  listen(url: string): void {
    if (!this.redis || this.subscriber) return;
    const sub = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
    sub.on("error", (error: Error) =>
      this.log.limited("warn", "revocation-sub", "revocation subscriber error", { error }, 10000),
    );
    sub.on("message", (channel: string, sid: string) => {
      if (channel === SESSION_REVOKED_CHANNEL) this.remember(sid);
    });
    sub.subscribe(SESSION_REVOKED_CHANNEL).catch(() => {}); // re-subscribed by ioredis on reconnect
    this.subscriber = sub;
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
  }

  private remember(sid: string): void {
    this.known.set(sid, Date.now() + this.ttlS * 1000);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [sid, until] of this.known) if (until <= now) this.known.delete(sid);
  }

  /** Revoke a session everywhere. Throws StoreUnavailableError when Redis cannot take it (a 503). */
  async revoke(sid: string): Promise<void> {
    this.remember(sid);
    if (!this.redis) return;
    try {
      await revokeSession(this.redis, sid, this.ttlS);
    } catch (error) {
      this.log.limited("warn", "revocation-write", "session revocation failed", { error }, 10000);
      throw new StoreUnavailableError("redis session revocation failed");
    }
  }

  async isRevoked(sid: string): Promise<boolean> {
    const until = this.known.get(sid);
    if (until !== undefined && until > Date.now()) return true;
    const redis = this.redis;
    if (redis?.status !== "ready") return false;
    try {
      return await isSessionRevoked(redis, sid);
    } catch (error) {
      this.log.limited("warn", "revocation-check", "session revocation check failed", { error }, 10000);
      return false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.subscriber?.disconnect();
    this.subscriber = null;
  }
}
