// One ioredis connection per process, configured so that Redis being down costs nothing: commands fail at
// once instead of queueing (no offline queue, no per-request retries), reconnects go on in the background,
// and every failure is counted and logged at a limited rate. Callers decide what "down" means for them:
// the cache skips, the login limiter refuses (fails closed).
import { Redis } from "ioredis";
import type { Logger } from "../../lib/log.ts";
import type { ApiMetrics } from "../metrics.ts";

export class RedisHandle {
  readonly client: Redis;

  constructor(
    url: string,
    /** Prefix of every key (a deployment or a test run). */
    readonly prefix: string,
    private readonly log: Logger,
    private readonly metrics: ApiMetrics,
  ) {
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      commandTimeout: 1000,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
      lazyConnect: false,
    });
    this.client.on("error", (error: Error) => {
      this.log.limited("warn", "redis-error", "redis connection error", { error }, 10000);
    });
    this.client.on("ready", () => this.log.info("redis ready"));
  }

  get ready(): boolean {
    return this.client.status === "ready";
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(":");
  }

  /** Count and log a failed command; the caller picks the fallback. */
  failed(what: string, error: unknown): void {
    this.metrics.redisErrors.inc();
    this.log.limited("warn", `redis-${what}`, "redis command failed", { what, error: error as Error }, 10000);
  }

  /** PING with a deadline: false when Redis is not answering. */
  async ping(timeoutMs = 500): Promise<boolean> {
    if (!this.ready) return false;
    let timer: Timer | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("redis ping timed out")), timeoutMs);
      });
      return (await Promise.race([this.client.ping(), deadline])) === "PONG";
    } catch (error) {
      this.failed("ping", error);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect(); // quit fails when the connection is already down; drop it instead
    }
  }
}
