// Hot read responses cached as ready-to-send JSON text in the store (Redis) with short TTLs.
// - Fresh for `ttlMs`; after that the stale text is still served for a grace period while ONE background
//   refresh runs (stale-while-revalidate), so a slow candle query never stalls the requests behind it.
//   Across processes a store lock elects the refresher; in one process a set of running refreshes does.
// - Concurrent misses for one key in this process share one load (single flight).
// - Each process keeps what it last read or wrote for a key, with the time it was stored, and serves it
//   without a round trip while it is fresh: the freshness rule is the store's, so every process sees the same
//   TTL, and a hot key costs one store read per TTL per process instead of one per request.
// - With the store down the cache is bypassed: every request loads, none fails.
import type { Logger } from "../../lib/log.ts";
import type { ApiMetrics } from "../metrics.ts";
import type { Store } from "./store.ts";

/** How long past its TTL a response may still be served while it is being refreshed. */
const GRACE_MS = 2000;
const LOCK_MS = 5000;
/** Bound on the process copies, in string length (a 1000-trade page is ~150k). Oldest evicted first. */
const LOCAL_MAX_CHARS = 16 * 1024 * 1024;

interface Local {
  text: string;
  storedAt: number;
}

export class ResponseCache {
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly refreshing = new Set<string>();
  private readonly local = new Map<string, Local>();
  private localChars = 0;
  private readonly hit;
  private readonly localHit;
  private readonly stale;
  private readonly miss;
  private readonly bypass;

  constructor(
    private readonly store: Store,
    metrics: ApiMetrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.hit = metrics.cache.labels({ result: "hit" });
    this.localHit = metrics.cache.labels({ result: "local" });
    this.stale = metrics.cache.labels({ result: "stale" });
    this.miss = metrics.cache.labels({ result: "miss" });
    this.bypass = metrics.cache.labels({ result: "bypass" });
  }

  /** The cached text for `key`, or the result of `load()` stored for `ttlMs`. ttlMs 0 skips the cache. */
  async getOrLoad(key: string, ttlMs: number, load: () => Promise<string>): Promise<string> {
    if (ttlMs <= 0) return load();
    const mine = this.local.get(key);
    if (mine && this.now() - mine.storedAt < ttlMs) {
      this.localHit.inc();
      return mine.text;
    }
    let cached: string | null;
    try {
      cached = this.store.ready ? await this.store.get(key) : null;
    } catch {
      cached = null; // the store counted and logged it
    }
    if (!this.store.ready) {
      this.bypass.inc();
      return this.singleFlight(key, load);
    }
    if (cached !== null) {
      const newline = cached.indexOf("\n");
      const text = cached.slice(newline + 1);
      const storedAt = Number(cached.slice(0, newline));
      if (this.now() - storedAt < ttlMs) {
        this.hit.inc();
        this.remember(key, text, storedAt);
        return text;
      }
      this.stale.inc();
      this.refreshInBackground(key, ttlMs, load);
      return text;
    }
    this.miss.inc();
    return this.singleFlight(key, () => this.loadAndStore(key, ttlMs, load));
  }

  private singleFlight(key: string, load: () => Promise<string>): Promise<string> {
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const promise = load().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  private async loadAndStore(key: string, ttlMs: number, load: () => Promise<string>): Promise<string> {
    const text = await load();
    const storedAt = this.now();
    // The store time goes first so a reader can tell fresh from stale without a second round trip.
    this.store.set(key, `${storedAt}\n${text}`, ttlMs + GRACE_MS).catch(() => {}); // counted and logged by the store
    this.remember(key, text, storedAt);
    return text;
  }

  private remember(key: string, text: string, storedAt: number): void {
    const previous = this.local.get(key);
    if (previous) {
      this.localChars -= previous.text.length;
      this.local.delete(key); // re-insert at the end: the map's order is the eviction order
    }
    this.local.set(key, { text, storedAt });
    this.localChars += text.length;
    for (const [oldest, entry] of this.local) {
      if (this.localChars <= LOCAL_MAX_CHARS) break;
      this.local.delete(oldest);
      this.localChars -= entry.text.length;
    }
  }

  private refreshInBackground(key: string, ttlMs: number, load: () => Promise<string>): void {
    if (this.refreshing.has(key)) return;
    this.refreshing.add(key);
    (async () => {
      if (!(await this.store.lock(key, LOCK_MS))) return; // another process is refreshing it
      try {
        await this.loadAndStore(key, ttlMs, load);
      } finally {
        await this.store.unlock(key);
      }
    })()
      .catch((error) => {
        // The stale text was served; the next request retries. A failing query is logged, not swallowed.
        this.log.limited("warn", `cache-refresh:${key}`, "cache refresh failed", { key, error }, 10000);
      })
      .finally(() => this.refreshing.delete(key));
  }
}
