// Where the API's reads go (docs/scaling.md, "Database readers"). Market data and analytics read
// `reads.db` / `reads.sql`: a streaming replica (DATABASE_READ_URL) while it is close enough behind the
// primary, else the primary. Accounts, sessions, portfolios, orders, fills, positions and cash never come
// here: they read what the same or the previous request wrote, so they use the primary handle only.
//
// Lag is measured in WAL positions, not in time since the replica's last replayed transaction (that grows
// on an idle primary and would call a caught-up replica late): every check samples the primary's WAL
// position, then the replica's replay position; the lag is the age of the oldest sample the replica has
// not replayed yet (0 when it has replayed them all). Past DATABASE_READ_MAX_LAG_MS, or when the replica
// does not answer, reads go to the primary; they come back once it is within half the bound again (a
// margin, so a replica hovering at the bound does not flip at every check; "exactly caught up" would never
// come under a steady write load).
import type { Logger } from "../../lib/log.ts";
import type { ApiMetrics } from "../metrics.ts";
import { connectDatabase, type Database, type Sql } from "./client.ts";

export interface ReadRouterOptions {
  /** The primary's handles, and its URL (DATABASE_URL) for connections of our own (analytics' COPY). */
  primary: { db: Database; sql: Sql; url?: string };
  replicaUrl: string;
  poolSize: number;
  maxLagMs: number;
  log: Logger;
  metrics?: ApiMetrics;
  /** Check period (default maxLag / 4 within 25..250 ms). */
  checkMs?: number;
}

export type ReadTarget = "replica" | "primary";

export interface ReplicaStatus {
  /** Where market-data and analytics reads go now. */
  target: ReadTarget;
  /** The replica answered its last check. */
  up: boolean;
  /** Age of the oldest primary WAL position it has not replayed, ms, at the last check (-1: unknown). */
  lagMs: number;
  /** Checks done. */
  checks: number;
}

const SAMPLES = 256;

/** "16/B374D848" → its 64-bit WAL position. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text);
  if (!m) throw new Error(`not a WAL position: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/**
 * The primary's WAL positions over time against the replica's replay position: the lag is the age of the
 * oldest sampled position not yet replayed (0 when all are).
 */
export class LagTracker {
  /** Samples not yet known to be replayed, oldest first. */
  private samples: { at: number; lsn: bigint }[] = [];
  /** Least time between two samples: 0 until the list first fills, then its spacing (kept even). */
  private minGapMs = 0;

  get size(): number {
    return this.samples.length;
  }

  sample(at: number, lsn: bigint): void {
    // The same position again needs no sample: the oldest one with it is what the lag is measured from.
    const last = this.samples.at(-1);
    if (last && (last.lsn === lsn || at - last.at < this.minGapMs)) return;
    // Full (a replica behind for a long time): keep every other one, the oldest included, and sample no
    // closer than their spacing from then on: evenly spread over the whole span, so the lag is read at
    // most one spacing (span / 128) short.
    if (this.samples.length >= SAMPLES) {
      this.samples = this.samples.filter((_, i) => i % 2 === 0);
      const kept = this.samples;
      this.minGapMs = (kept.at(-1)!.at - kept[0]!.at) / (kept.length - 1);
    }
    this.samples.push({ at, lsn });
  }

  /** The replica has replayed up to `lsn`: its lag at `now`, ms. */
  replayed(lsn: bigint, now: number): number {
    let done = 0;
    while (done < this.samples.length && this.samples[done]!.lsn <= lsn) done++;
    if (done > 0) this.samples.splice(0, done);
    if (this.samples.length === 0) this.minGapMs = 0; // caught up: fine-grained again
    return this.samples.length === 0 ? 0 : now - this.samples[0]!.at;
  }
}

export class ReadRouter {
  /** Market data and analytics: Drizzle over the current target. */
  readonly db: Database;
  /** The same, as postgres.js (analytics' COPY and read-only transactions). */
  readonly sql: Sql;
  private readonly replica: { db: Database; sql: Sql };
  private target: ReadTarget = "primary";
  private up = false;
  private lagMs = -1;
  private checks = 0;
  private readonly lag = new LagTracker();
  private timer: Timer | undefined;
  private running: Promise<void> | null = null;
  private readonly checkMs: number;

  constructor(private readonly opts: ReadRouterOptions) {
    this.replica = connectDatabase(opts.replicaUrl, opts.poolSize, "tapewire-api-reads");
    this.checkMs = opts.checkMs ?? Math.min(250, Math.max(25, Math.floor(opts.maxLagMs / 4)));
    const pick = () => (this.target === "replica" ? this.replica : opts.primary);
    this.db = routed(() => pick().db);
    this.sql = routed(() => pick().sql);
    const registry = opts.metrics?.registry;
    if (registry) {
      registry.gauge(
        "api_db_replica_lag_seconds",
        "How far the read replica is behind the primary (age of the oldest WAL position not replayed); -1 unknown",
        (g) => g.set({}, this.lagMs < 0 ? -1 : this.lagMs / 1000),
      );
      registry.gauge(
        "api_db_reads_on_replica",
        "1 while market-data and analytics reads go to the replica, 0 while they go to the primary",
        (g) => g.set({}, this.target === "replica" ? 1 : 0),
      );
    }
  }

  /**
   * The current target's postgres.js handle with that server's URL, as one pair: a COPY over a connection of
   * our own (archiver/pg-copy.ts) joins a snapshot exported by `sql`'s transaction, which exists only there.
   */
  current(): { sql: Sql; url?: string } {
    return this.target === "replica"
      ? { sql: this.replica.sql, url: this.opts.replicaUrl }
      : { sql: this.opts.primary.sql, url: this.opts.primary.url };
  }

  status(): ReplicaStatus {
    return { target: this.target, up: this.up, lagMs: this.lagMs, checks: this.checks };
  }

  /** Check now (start-up calls this once before the first read), then every checkMs. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.checkMs);
  }

  /** One check; concurrent calls share the one in flight. */
  check(): Promise<void> {
    this.running ??= this.measure().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async measure(): Promise<void> {
    const timeoutMs = Math.min(5000, Math.max(500, this.opts.maxLagMs));
    const at = Date.now();
    let primaryLsn: bigint;
    try {
      const [row] = await within(
        this.opts.primary.sql<{ l: string }[]>`SELECT pg_current_wal_lsn()::text AS l`,
        timeoutMs,
      );
      primaryLsn = parseLsn(row!.l);
    } catch (error) {
      // Nothing to compare with: the routes report the primary's trouble themselves. Keep the target.
      this.opts.log.limited("warn", "read-router-primary", "read routing: primary WAL position unknown", {
        error: error as Error,
      });
      return;
    }
    this.lag.sample(at, primaryLsn);
    let replayed: bigint;
    try {
      const [row] = await within(
        this.replica.sql<{ l: string | null }[]>`SELECT pg_last_wal_replay_lsn()::text AS l`,
        timeoutMs,
      );
      if (!row?.l) throw new Error("DATABASE_READ_URL is not a replica in recovery (no replay position)");
      replayed = parseLsn(row.l);
    } catch (error) {
      this.checks++;
      this.up = false;
      this.lagMs = -1;
      this.leave("replica not answering", { error: error as Error });
      return;
    }
    this.checks++;
    this.up = true;
    const now = Date.now();
    this.lagMs = this.lag.replayed(replayed, now);
    if (this.target === "replica" && this.lagMs > this.opts.maxLagMs)
      this.leave("replica behind", { lagMs: this.lagMs, maxLagMs: this.opts.maxLagMs });
    else if (this.target === "primary" && this.lagMs <= this.opts.maxLagMs / 2) {
      this.target = "replica";
      this.opts.log.info("read routing: market-data and analytics reads on the replica", {
        lagMs: this.lagMs,
      });
    }
  }

  private leave(why: string, fields: Record<string, unknown>): void {
    const was = this.target;
    this.target = "primary";
    // Said once per switch (and at the first check), not at every check while it lasts.
    if (was === "replica" || this.checks === 1)
      this.opts.log.warn(`read routing: ${why}; reads on the primary`, fields);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
    await this.replica.sql.end({ timeout: 5 });
  }
}

/**
 * A handle that forwards every use to whatever `pick()` returns at that moment: each query goes to the
 * target current when it is built. Functions are bound to their real owner; `sql\`...\`` calls forward too.
 */
function routed<T extends object>(pick: () => T): T {
  const first = pick();
  const shell = (typeof first === "function" ? () => {} : {}) as T;
  return new Proxy(shell, {
    get(_shell, key) {
      const target = pick();
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
    has: (_shell, key) => Reflect.has(pick(), key),
    apply: (_shell, thisArg, args) => Reflect.apply(pick() as () => unknown, thisArg, args),
  });
}

async function within<T>(query: PromiseLike<T>, ms: number): Promise<T> {
  let timer: Timer | undefined;
  try {
    return await Promise.race([
      query,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
