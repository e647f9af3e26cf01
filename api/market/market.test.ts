import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dec, str } from "../portfolios/exact.ts";
import { newUser, startTestApi, type TestApi, waitFor } from "../test/harness.ts";
import { insertFeedEvent, insertTop, insertTrades, type SeedTrade } from "../test/seed.ts";

// BTC-USD (1) on kraken (1) and coinbase (2): one trade every 250 ms for 10 minutes from T0 on each,
// prices in exact cents, sizes in satoshis, so the expected candles can be computed independently.
const T0 = Date.parse("2025-01-01T00:00:00Z");
const N = 2400;
const seed: SeedTrade[] = [];
for (const exchange of [1, 2]) {
  for (let i = 0; i < N; i++) {
    const cents = 10_000_00 + ((i * 7919 + exchange * 13) % 5000) - 2500;
    seed.push({
      time: new Date(T0 + i * 250 + exchange), // the exchanges interleave 1 ms apart
      exchange,
      instrumentId: 1,
      tradeId: 1_000_000 + i,
      price: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`,
      size: `0.${String(((i * 31) % 99_999_999) + 1).padStart(8, "0")}`,
      side: i % 2 ? "sell" : "buy",
    });
  }
}
const iso = (ms: number) => new Date(ms).toISOString();
const norm = (text: string) => str(dec(text));

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ API_CACHE_TTL_MS: "0" }); // functional tests see every change at once
  await insertTrades(api.db.sql, seed);
});
afterAll(() => api.close());
const get = (path: string) => api.call("GET", path);

describe("trades", () => {
  test("newest first across exchanges; cursor pages cover the range exactly once, in order", async () => {
    const from = iso(T0 + 60_000);
    const to = iso(T0 + 120_000);
    const expected = seed
      .filter((t) => +t.time >= T0 + 60_000 && +t.time < T0 + 120_000)
      .sort((a, b) => +b.time - +a.time || b.exchange - a.exchange)
      .map((t) => `${t.exchange}:${t.tradeId}`);
    for (const [order, want] of [
      ["desc", expected],
      ["asc", [...expected].reverse()],
    ] as const) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: Awaited<ReturnType<typeof get>> = await get(
          `/api/market/trades?symbol=BTC-USD&from=${from}&to=${to}&limit=97&order=${order}${cursor ? `&cursor=${cursor}` : ""}`,
        );
        expect(res.status).toBe(200);
        seen.push(
          ...res.body.items.map(
            (t: { exchange: string; tradeId: string }) => `${t.exchange === "kraken" ? 1 : 2}:${t.tradeId}`,
          ),
        );
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      expect(seen).toEqual(want);
      expect(pages).toBe(Math.ceil(want.length / 97));
    }
  });

  test("one exchange, exact values, µs times, from inclusive and to exclusive", async () => {
    const t = seed.find((s) => s.exchange === 2 && s.tradeId === 1_000_010)!;
    const at = iso(+t.time);
    const res = await get(
      `/api/market/trades?symbol=BTC-USD&exchange=coinbase&from=${at}&to=${iso(+t.time + 250)}`,
    );
    expect(res.body.items).toEqual([
      {
        time: `${at.slice(0, -1)}000Z`,
        exchange: "coinbase",
        symbol: "BTC-USD",
        tradeId: "1000010",
        price: t.price,
        size: t.size,
        side: "buy",
      },
    ]);
    expect(res.body.nextCursor).toBeNull();
  });

  test("trade ids beyond 2^53 and sub-millisecond times survive exactly", async () => {
    await api.db
      .sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
      VALUES ('2024-06-01T00:00:00.123456Z', 1, 7, 9223372036854775807, 0.000012345, 123456789.12345, 'unknown', 1, 0)`;
    const res = await get("/api/market/trades?symbol=SHIB-USD&exchange=kraken");
    expect(res.body.items[0]).toMatchObject({
      time: "2024-06-01T00:00:00.123456Z",
      tradeId: "9223372036854775807",
      price: "0.000012345",
      size: "123456789.12345",
      side: "unknown",
    });
  });

  test.each([
    ["symbol=BTC-USD&limit=0", 422, "limit must be an integer 1..1000"],
    ["symbol=BTC-USD&limit=abc", 422, "limit must be an integer 1..1000"],
    ["symbol=BTC-USD&from=yesterday", 422, "from must be an RFC 3339 time such as 2025-01-31T12:00:00Z"],
    ["symbol=BTC-USD&order=sideways", 422, "order must be one of desc, asc"],
    [
      "symbol=BTC-USD&exchange=binance",
      404,
      "BTC-USD is not listed on binance; see GET /api/market/instruments",
    ],
    [
      "symbol=BTC-USD&cursor=WzEsMiwzXQ",
      422,
      "cursor is not valid here; pass nextCursor from the previous page unchanged",
    ],
    ["symbol=BTC-USD&from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", 422, "from must be before to"],
    ["symbol=XRP-USD", 404, "unknown instrument XRP-USD; see GET /api/market/instruments"],
    ["", 422, "symbol must be a canonical symbol like BTC-USD"],
  ])("?%s -> %d %s", async (query, status, message) => {
    const res = await get(`/api/market/trades?${query}`);
    expect(res.status).toBe(status);
    expect(res.body.message).toBe(message);
  });
});

describe("candles (plain Postgres: date_bin)", () => {
  function expectedCandles(exchange: number, stepMs: number, from: number, to: number) {
    const buckets = new Map<number, SeedTrade[]>();
    for (const t of seed) {
      const ms = +t.time;
      if (t.exchange !== exchange || ms < from || ms >= to) continue;
      const b = Math.floor(ms / stepMs) * stepMs;
      buckets.set(b, [...(buckets.get(b) ?? []), t]);
    }
    return [...buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([b, ts]) => {
        const cents = ts.map((t) => dec(t.price).units).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        const volume = ts.reduce((sum, t) => sum + dec(t.size).units, 0n);
        return {
          time: `${iso(b).slice(0, -1)}000Z`,
          open: norm(ts[0]!.price),
          high: str({ units: cents[cents.length - 1]!, scale: 2 }),
          low: str({ units: cents[0]!, scale: 2 }),
          close: norm(ts[ts.length - 1]!.price),
          volume: str({ units: volume, scale: 8 }),
          trades: ts.length,
        };
      });
  }
  const normalize = (candles: Record<string, string | number>[]) =>
    candles.map((c) => ({
      ...c,
      open: norm(`${c.open}`),
      high: norm(`${c.high}`),
      low: norm(`${c.low}`),
      close: norm(`${c.close}`),
      volume: norm(`${c.volume}`),
    }));

  test.each([
    ["1s", 1000],
    ["7s", 7000],
    ["1m", 60_000],
    ["15m", 900_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
  ])("%s candles match an independent computation", async (interval, stepMs) => {
    const from = T0 + 30_000;
    const to = T0 + 570_000;
    const res = await get(
      `/api/market/candles?symbol=BTC-USD&exchange=kraken&interval=${interval}&from=${iso(from)}&to=${iso(to)}`,
    );
    expect(res.status).toBe(200);
    const alignedFrom = Math.floor(from / stepMs) * stepMs;
    expect(res.body.from).toBe(iso(alignedFrom));
    const expected = expectedCandles(1, stepMs, alignedFrom, to);
    expect(expected.length).toBe(Math.ceil((to - alignedFrom) / stepMs)); // every bucket has trades
    expect(normalize(res.body.candles)).toEqual(expected);
  });

  test("default range: the last `limit` intervals up to now, including the open one", async () => {
    const now = Date.now();
    await insertTrades(api.db.sql, [
      { time: new Date(now - 1000), exchange: 2, instrumentId: 2, tradeId: 1, price: "3000.5", size: "1" },
      { time: new Date(now - 500), exchange: 2, instrumentId: 2, tradeId: 2, price: "3001.5", size: "2" },
    ]);
    const res = await get("/api/market/candles?symbol=ETH-USD&exchange=coinbase&interval=1h&limit=2");
    expect(res.body.candles.at(-1)).toMatchObject({ high: "3001.5", low: "3000.5", volume: "3", trades: 2 });
    expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBeLessThanOrEqual(2 * 3_600_000);
  });

  test("trades at the same instant: open is the lowest trade id, close the highest", async () => {
    const at = new Date("2024-03-03T03:03:03.333Z");
    await insertTrades(api.db.sql, [
      { time: at, exchange: 2, instrumentId: 3, tradeId: 5, price: "105", size: "1" },
      { time: at, exchange: 2, instrumentId: 3, tradeId: 3, price: "103", size: "1" },
      { time: at, exchange: 2, instrumentId: 3, tradeId: 4, price: "101", size: "1" },
    ]);
    const res = await get(
      "/api/market/candles?symbol=SOL-USD&exchange=coinbase&interval=1m&from=2024-03-03T03:00:00Z&to=2024-03-03T04:00:00Z",
    );
    expect(res.body.candles).toEqual([
      {
        time: "2024-03-03T03:03:00.000000Z",
        open: "103",
        high: "105",
        low: "101",
        close: "105",
        volume: "3",
        trades: 3,
      },
    ]);
  });

  test.each([
    ["interval=0s", "interval must be like 1s, 5m, 1h or 1d"],
    ["interval=2d", 'interval must be like 1s, 5m, 1h or 1d, between 1s and 1d; got "2d"'],
    ["interval=1w", "interval must be like 1s, 5m, 1h or 1d"],
    [
      "interval=1s&from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z",
      "the range holds 86400 candles of 1s; at most 5000",
    ],
    ["interval=1m&limit=5001", "limit must be an integer 1..5000"],
  ])("%s -> 422 %s", async (query, message) => {
    const res = await get(`/api/market/candles?symbol=BTC-USD&exchange=kraken&${query}`);
    expect(res.status).toBe(422);
    expect(res.body.message).toBe(message);
  });

  test("exchange is required", async () => {
    const res = await get("/api/market/candles?symbol=BTC-USD");
    expect(res.status).toBe(422);
    expect(res.body.message).toBe("exchange must be one of kraken, coinbase, binance");
  });
});

describe("books, BBO and spread", () => {
  beforeAll(async () => {
    const old = iso(Date.now() - 5000);
    await insertTop(api.db.sql, { exchange: 1, instrumentId: 4, bid: "1", ask: "2", time: old }); // superseded
    await insertTop(api.db.sql, {
      exchange: 1,
      instrumentId: 4,
      bid: "64000.1",
      ask: "64000.2",
      bidSize: "0.5",
      askSize: "0.25",
    });
    await insertTop(api.db.sql, {
      exchange: 2,
      instrumentId: 4,
      bid: "64000.30",
      ask: "64000.50",
      bidSize: "1",
      askSize: "2",
    });
    await insertTop(api.db.sql, { exchange: 3, instrumentId: 4, bid: "63999.99", ask: "64000.15" });
  });

  test("latest top per exchange with its own spread", async () => {
    const res = await get("/api/market/tops?symbol=BTC-USDT");
    expect(
      res.body.tops.map((t: Record<string, unknown>) => [t.exchange, t.bidPrice, t.askPrice, t.spread]),
    ).toEqual([
      ["kraken", "64000.1", "64000.2", "0.1"],
      ["coinbase", "64000.30", "64000.50", "0.20"],
      ["binance", "63999.99", "64000.15", "0.16"],
    ]);
    expect(res.body.tops[0].ageMs).toBeLessThan(5000);
    const one = await get("/api/market/tops?symbol=BTC-USDT&exchange=binance");
    expect(one.body.tops).toHaveLength(1);
  });

  test("consolidated BBO: best bid and best ask may sit on different exchanges and cross", async () => {
    const res = await get("/api/market/bbo?symbol=BTC-USDT");
    expect(res.body).toEqual({
      symbol: "BTC-USDT",
      bid: { exchange: "coinbase", price: "64000.30", size: "1" },
      ask: { exchange: "binance", price: "64000.15", size: "1" },
      spread: "-0.15",
      crossed: true,
    });
    const empty = await get("/api/market/bbo?symbol=SOL-USDT");
    expect(empty.body).toEqual({ symbol: "SOL-USDT", bid: null, ask: null, spread: null, crossed: false });
  });

  test("cross-exchange spread: every ordered pair, best edge first, exact", async () => {
    const res = await get("/api/market/spread?symbol=BTC-USDT");
    expect(res.body.pairs).toHaveLength(6);
    expect(res.body.pairs[0]).toEqual({
      buyOn: "binance",
      sellOn: "coinbase",
      ask: "64000.15",
      bid: "64000.30",
      edge: "0.15",
      edgeBps: "0.02",
    });
    expect(res.body.pairs.map((p: { edge: string }) => Number(p.edge))).toEqual(
      [...res.body.pairs.map((p: { edge: string }) => Number(p.edge))].sort((a, b) => b - a),
    );
  });
});

describe("feeds", () => {
  beforeAll(async () => {
    const at = (s: number) => iso(Date.now() - s * 1000);
    await insertFeedEvent(api.db.sql, { time: at(50), exchange: 1, event: "connected", seq: 1 });
    await insertFeedEvent(api.db.sql, {
      time: at(40),
      exchange: 1,
      instrumentId: 1,
      event: "gap",
      detail: 100,
      count: 3,
      seq: 2,
    });
    await insertFeedEvent(api.db.sql, {
      time: at(30),
      exchange: 1,
      instrumentId: 1,
      event: "book_resync",
      detail: 1,
      seq: 3,
    });
    await insertFeedEvent(api.db.sql, { time: at(20), exchange: 1, event: "disconnected", seq: 4 });
    await insertFeedEvent(api.db.sql, { time: at(10), exchange: 2, event: "connected", seq: 1 });
    await insertFeedEvent(api.db.sql, { time: at(7200), exchange: 2, instrumentId: 2, event: "gap", seq: 0 });
  });

  // The state itself (connected/stale/disconnected from events and message times): feeds.test.ts.
  test("status per exchange from stored events, trades and tops", async () => {
    const res = await get("/api/market/feeds");
    const byExchange = Object.fromEntries(res.body.map((f: { exchange: string }) => [f.exchange, f]));
    expect(byExchange.kraken).toMatchObject({
      lastHour: { connected: 1, gap: 1, book_resync: 1, disconnected: 1 },
    });
    expect(byExchange.kraken.lastTradeAt).toBe("2025-01-01T00:09:59.751000Z");
    expect(byExchange.coinbase).toMatchObject({ state: "connected", lastHour: { connected: 1 } });
    expect(byExchange.binance.lastBookTopAt).not.toBeNull();
  });

  test("events newest first, filtered and paged", async () => {
    const all = await get("/api/market/feed-events?limit=2");
    expect(all.body.items.map((e: { event: string }) => e.event)).toEqual(["connected", "disconnected"]);
    const next = await get(`/api/market/feed-events?limit=10&cursor=${all.body.nextCursor}`);
    expect(next.body.items.map((e: { event: string }) => e.event)).toEqual([
      "book_resync",
      "gap",
      "connected",
      "gap",
    ]);
    const gaps = await get("/api/market/feed-events?exchange=kraken&event=gap&symbol=BTC-USD");
    expect(gaps.body.items).toEqual([
      expect.objectContaining({ exchange: "kraken", instrumentId: 1, detail: "100", count: "3" }),
    ]);
    expect((await get("/api/market/feed-events?event=explosion")).body.message).toStartWith(
      "event must be one of collector_start",
    );
  });

  test("instruments lists the registry with venues", async () => {
    const res = await get("/api/market/instruments");
    expect(res.body.find((i: { symbol: string }) => i.symbol === "SHIB-USDT")).toEqual({
      id: 8,
      symbol: "SHIB-USDT",
      base: "SHIB",
      quote: "USDT",
      priceDecimals: 9,
      sizeDecimals: 5,
      exchanges: ["binance"],
      venues: { binance: { symbol: "SHIBUSDT", pricePrecision: 8, qtyPrecision: 0 } },
    });
  });
});

describe("cache and access control", () => {
  let cached: TestApi;
  beforeAll(async () => {
    cached = await startTestApi({ API_CACHE_TTL_MS: "300", API_PUBLIC_MARKET_DATA: "false" }, api.db);
  });
  afterAll(() => cached.close());

  test("market data needs a token when API_PUBLIC_MARKET_DATA is off", async () => {
    expect((await cached.call("GET", "/api/market/trades?symbol=SOL-USD")).status).toBe(401);
  });

  test("hot responses come from Redis until the TTL passes", async () => {
    const { token } = await newUser(cached, "reader");
    const path = "/api/market/trades?symbol=SOL-USD&exchange=binance".replace("SOL-USD", "SOL-USDT");
    const first = await cached.call("GET", path, { token });
    expect(first.body.items).toHaveLength(0);
    await insertTrades(api.db.sql, [
      { time: new Date(), exchange: 3, instrumentId: 6, tradeId: 42, price: "150", size: "1" },
    ]);
    const second = await cached.call("GET", path, { token });
    expect(second.text).toBe(first.text); // served from the cache
    const key = `${cached.prefix}cache:trades:SOL-USDT:binance:::100:desc:`;
    const ttl = await cached.deps.redis!.client.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300 + 2000); // fresh for 300 ms, then served stale while one refresh runs
    // Once the 300 ms pass, a request gets the stale text and triggers the refresh; the next ones see the trade.
    await waitFor(async () => (await cached.call("GET", path, { token })).body.items.length === 1, "refresh");
    expect(cached.deps.metrics.registry.render()).toMatch(/tapewire_api_cache_total\{result="stale"\} [1-9]/);
    expect(cached.deps.metrics.registry.render()).toMatch(/tapewire_api_cache_total\{result="local"\} [1-9]/);
  });
});
