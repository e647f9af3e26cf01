// REST depth snapshots: https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md
// (GET /api/v3/depth, request weight, X-MBX-USED-WEIGHT-1M, 429 Retry-After, 418 IP ban).
// Snapshots spend the IP's request weight, shared with anything else on the host. This client keeps the
// weight the server reports, reserves weight for requests in flight, waits for the next minute rather than
// overshoot, and after a 429 or 418 sends nothing until the server's Retry-After has passed (a 418 waits at
// least banBackoffMs: repeating a banned request lengthens the ban).
import type { Logger } from "../../lib/log.ts";
import { type BinanceConfig, depthWeight } from "./config.ts";
import type { BinanceMetrics } from "./metrics.ts";

export class BinanceRestError extends Error {
  override name = "BinanceRestError";
  constructor(
    message: string,
    readonly status: number,
    /** Binance's error code from the body ({"code":-1121,"msg":"Invalid symbol."}), if any. */
    readonly code?: number,
  ) {
    super(message);
  }
}

export interface RestDeps {
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  now?: () => number;
  log: Logger;
  metrics: BinanceMetrics;
}

const MINUTE = 60_000;
const HISTORICAL_TRADES_WEIGHT = 25;

export class BinanceRest {
  /** Weight used in `weightMinute`, as the last response reported it, plus our own requests since. */
  private usedWeight = 0;
  private weightMinute = -1;
  private inFlightWeight = 0;
  /** No request before this time (429/418). */
  blockedUntil = 0;
  private wake: Promise<void> | null = null;
  private readonly fetch: (url: string, init: RequestInit) => Promise<Response>;
  private readonly now: () => number;

  constructor(
    private readonly config: BinanceConfig,
    private readonly deps: RestDeps,
  ) {
    this.fetch = deps.fetch ?? ((url, init) => fetch(url, init));
    this.now = deps.now ?? Date.now;
  }

  get weight(): number {
    return this.usedWeight;
  }

  /** The snapshot body for one symbol (Binance's own name, e.g. "BTCUSDT"). Throws BinanceRestError. */
  depth(venueSymbol: string): Promise<string> {
    const query = `symbol=${encodeURIComponent(venueSymbol)}&limit=${this.config.depthLimit}`;
    return this.get(`/api/v3/depth?${query}`, depthWeight(this.config.depthLimit), venueSymbol);
  }

  /** Individual trades from `fromId` on (the trade stream's `t`), for backfill: weight 25 (rest-api.md). */
  historicalTrades(venueSymbol: string, fromId: number, limit = 1000): Promise<string> {
    const query = `symbol=${encodeURIComponent(venueSymbol)}&fromId=${fromId}&limit=${limit}`;
    return this.get(`/api/v3/historicalTrades?${query}`, HISTORICAL_TRADES_WEIGHT, venueSymbol);
  }

  /** GET within the weight budget; the body on 200, else BinanceRestError (429/418 block further requests). */
  private async get(path: string, weight: number, venueSymbol: string): Promise<string> {
    await this.admit(weight);
    this.inFlightWeight += weight;
    const url = `${this.config.restUrl}${path}`;
    let response: Response;
    let body: string;
    try {
      response = await this.fetch(url, {
        signal: AbortSignal.timeout(this.config.restTimeoutMs),
        // Times in µs, as the streams send them (timeUnit=MICROSECOND): a backfilled trade then carries the very
        // time its live copy had, so the database's unique key sees one trade, not two.
        headers: { "X-MBX-TIME-UNIT": "MICROSECOND" },
      });
      body = await response.text();
    } catch (error) {
      this.deps.metrics.restRequest("network_error");
      throw new BinanceRestError(`GET ${url}: ${(error as Error).message}`, 0);
    } finally {
      this.inFlightWeight -= weight;
    }
    this.deps.metrics.restRequest(String(response.status));
    this.noteWeight(response.headers.get("x-mbx-used-weight-1m"), weight);
    if (response.status === 200) return body;

    const code = errorCode(body);
    const retryAfterMs = retryAfter(response.headers.get("retry-after"));
    if (response.status === 429 || response.status === 418) {
      const ban = response.status === 418;
      const wait = ban
        ? Math.max(retryAfterMs ?? 0, this.config.banBackoffMs)
        : (retryAfterMs ?? this.config.rateLimitBackoffMs);
      this.blockedUntil = Math.max(this.blockedUntil, this.now() + wait);
      this.deps.log.warn(ban ? "binance REST ban (418): backing off" : "binance REST rate limited (429)", {
        symbol: venueSymbol,
        waitMs: wait,
        retryAfterMs,
        code,
      });
    } else {
      this.deps.log.limited("warn", `rest_${response.status}`, "binance REST request failed", {
        symbol: venueSymbol,
        status: response.status,
        body: body.slice(0, 200),
      });
    }
    throw new BinanceRestError(
      `GET ${url}: HTTP ${response.status} ${body.slice(0, 120)}`,
      response.status,
      code,
    );
  }

  /** Wait until a request of `weight` fits: not blocked, and within this minute's weight limit. */
  private async admit(weight: number): Promise<void> {
    for (;;) {
      const now = this.now();
      if (now < this.blockedUntil) {
        await this.sleepUntil(this.blockedUntil);
        continue;
      }
      const minute = Math.floor(now / MINUTE);
      if (minute !== this.weightMinute) {
        this.weightMinute = minute;
        this.usedWeight = 0;
      }
      if (this.usedWeight + this.inFlightWeight + weight <= this.config.weightLimit) return;
      this.deps.metrics.weightWaits.inc();
      await this.sleepUntil((minute + 1) * MINUTE + Math.random() * 250);
    }
  }

  private noteWeight(header: string | null, weight: number): void {
    const reported = header === null ? Number.NaN : Number(header);
    const minute = Math.floor(this.now() / MINUTE);
    if (minute !== this.weightMinute) {
      this.weightMinute = minute;
      this.usedWeight = 0;
    }
    // The server's figure includes every client on this IP; without it count our own requests.
    this.usedWeight = Number.isFinite(reported) ? reported : this.usedWeight + weight;
    this.deps.metrics.usedWeight.set(this.usedWeight);
  }

  /** One shared, unref'd timer for every waiting request, so a long ban holds no process open. */
  private sleepUntil(time: number): Promise<void> {
    if (!this.wake) {
      this.wake = new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            this.wake = null;
            resolve();
          },
          Math.max(0, time - this.now()),
        );
        (timer as { unref?: () => void }).unref?.();
      });
    }
    return this.wake;
  }
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function errorCode(body: string): number | undefined {
  try {
    const parsed = JSON.parse(body) as { code?: unknown };
    return typeof parsed.code === "number" ? parsed.code : undefined;
  } catch {
    return undefined;
  }
}
