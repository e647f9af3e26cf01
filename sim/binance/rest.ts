// Binance spot REST subset under /binance/api/v3 (rest-api.md): depth snapshots consistent with the
// stream update ids, exchangeInfo, ping, time. Request weight is tracked per minute and reported in
// X-MBX-USED-WEIGHT-1M; over the budget answers 429 with Retry-After.
import type { VenueCounters } from "../counters.ts";
import type { Faults } from "../faults.ts";
import { binanceTrades } from "../history.ts";
import type { Market } from "../market.ts";
import { dec, levelsText, topLevels } from "./streams.ts";

const WEIGHT_LIMIT = 6000;

export class BinanceRest {
  private windowStart = 0;
  private used = 0;

  constructor(
    private readonly market: Market,
    private readonly faults: Faults,
    private readonly counters: VenueCounters,
  ) {}

  handle(req: Request, path: string, url: URL): Response {
    this.counters.rest++;
    if (req.method !== "GET") return this.json(405, { code: -1000, msg: "Only GET is supported." }, 0);
    switch (path) {
      case "/api/v3/depth":
        return this.depth(url);
      case "/api/v3/historicalTrades":
        return this.trades(req, url, false);
      case "/api/v3/aggTrades":
        return this.trades(req, url, true);
      case "/api/v3/exchangeInfo":
        return this.exchangeInfo();
      case "/api/v3/ping":
        return this.json(200, {}, 1);
      case "/api/v3/time":
        return this.json(200, { serverTime: Date.now() }, 1);
      default:
        return this.json(404, { code: -1000, msg: `Unknown endpoint ${path}` }, 0);
    }
  }

  private depth(url: URL): Response {
    const symbol = url.searchParams.get("symbol");
    const limitText = url.searchParams.get("limit");
    let limit = 100;
    if (limitText !== null) {
      limit = Number(limitText);
      if (!/^[0-9]+$/.test(limitText) || limit < 1)
        return this.json(
          400,
          {
            code: -1100,
            msg: "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
          },
          1,
        );
      limit = Math.min(limit, 5000);
    }
    const weight = limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    const fault = this.faults.take("binance", "rest-status", "depth", symbol ?? undefined);
    if (fault) {
      const status = fault.status ?? 429;
      const msg =
        status === 418
          ? `Way too much request weight used; IP banned until ${Date.now() + 60_000}. Please use WebSocket Streams for live updates to avoid bans.`
          : "Too many requests; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.";
      return this.json(status, { code: -1003, msg }, 0, { "Retry-After": "1" });
    }
    if (!this.charge(weight)) {
      const retry = Math.max(1, Math.ceil((this.windowStart + 60_000 - Date.now()) / 1000));
      return this.json(
        429,
        {
          code: -1003,
          msg: "Too much request weight used; current limit is 6000 request weight per 1 MINUTE.",
        },
        0,
        { "Retry-After": String(retry) },
      );
    }
    if (!symbol)
      return this.json(
        400,
        { code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." },
        0,
      );
    const book = this.market.book("binance", symbol);
    if (!book || book.symbol !== symbol) return this.json(400, { code: -1121, msg: "Invalid symbol." }, 0);
    const body = `{"lastUpdateId":${book.updateId},"bids":${levelsText(book, topLevels(book.bids, limit))},"asks":${levelsText(book, topLevels(book.asks, limit))}}`;
    return this.text(200, body);
  }

  private exchangeInfo(): Response {
    if (!this.charge(20))
      return this.json(429, { code: -1003, msg: "Too much request weight used." }, 0, {
        "Retry-After": "60",
      });
    const symbols = [...this.market.venueBooks("binance")].map((b) => ({
      symbol: b.symbol,
      status: "TRADING",
      baseAsset: b.inst.base,
      baseAssetPrecision: 8,
      quoteAsset: b.inst.quote,
      quotePrecision: 8,
      quoteAssetPrecision: 8,
      filters: [
        {
          filterType: "PRICE_FILTER",
          minPrice: dec(b, 1, "p"),
          maxPrice: "1000000.00000000",
          tickSize: dec(b, 1, "p"),
        },
        {
          filterType: "LOT_SIZE",
          minQty: dec(b, 1, "q"),
          maxQty: "9000000.00000000",
          stepSize: dec(b, 1, "q"),
        },
      ],
    }));
    return this.json(
      200,
      {
        timezone: "UTC",
        serverTime: Date.now(),
        rateLimits: [
          { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: WEIGHT_LIMIT },
        ],
        exchangeFilters: [],
        symbols,
      },
      0,
    );
  }

  /**
   * Trade history from the same tape the streams published: historicalTrades (weight 25), aggTrades (4); times
   * in ms, or µs with the X-MBX-TIME-UNIT: MICROSECOND header.
   */
  private trades(req: Request, url: URL, agg: boolean): Response {
    const weight = agg ? 4 : 25;
    const symbol = url.searchParams.get("symbol");
    const fault = this.faults.take(
      "binance",
      "rest-status",
      agg ? "aggTrades" : "historicalTrades",
      symbol ?? undefined,
    );
    if (fault)
      return this.json(fault.status ?? 429, { code: -1003, msg: "Too many requests." }, 0, {
        "Retry-After": "1",
      });
    if (!this.charge(weight))
      return this.json(429, { code: -1003, msg: "Too much request weight used." }, 0, { "Retry-After": "1" });
    const book = symbol ? this.market.book("binance", symbol) : undefined;
    if (!book) return this.json(400, { code: -1121, msg: "Invalid symbol." }, 0);
    const limitText = url.searchParams.get("limit") ?? "500";
    const fromText = url.searchParams.get("fromId");
    if (!/^[0-9]+$/.test(limitText) || (fromText !== null && !/^[0-9]+$/.test(fromText)))
      return this.json(400, { code: -1100, msg: "Illegal characters found in a parameter." }, 0);
    const limit = Math.min(1000, Math.max(1, Number(limitText)));
    return this.json(
      200,
      binanceTrades(
        book,
        fromText === null ? undefined : Number(fromText),
        limit,
        agg,
        // Binance's X-MBX-TIME-UNIT header (MICROSECOND or microsecond): times in µs instead of ms.
        req.headers.get("x-mbx-time-unit")?.toUpperCase() === "MICROSECOND",
      ),
      0,
    );
  }

  /** Adds weight to this minute's budget; false if it would go over. */
  private charge(weight: number): boolean {
    const now = Date.now();
    const minute = now - (now % 60_000);
    if (minute !== this.windowStart) {
      this.windowStart = minute;
      this.used = 0;
    }
    if (this.used + weight > WEIGHT_LIMIT) return false;
    this.used += weight;
    return true;
  }

  private json(
    status: number,
    body: unknown,
    weight: number,
    headers: Record<string, string> = {},
  ): Response {
    if (weight > 0) this.charge(weight);
    return this.text(status, JSON.stringify(body), headers);
  }

  private text(status: number, body: string, headers: Record<string, string> = {}): Response {
    return new Response(body, {
      status,
      headers: {
        "Content-Type": "application/json;charset=UTF-8",
        "X-MBX-USED-WEIGHT-1M": String(this.used),
        ...headers,
      },
    });
  }
}
