import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ConfigError } from "../../lib/config.ts";
import { formatFixed } from "../../schema/decimal.ts";
import { FLAG_ASK, FLAG_END, FLAG_TAKER_BUY, FLAG_TAKER_SELL, Kind, Status } from "../../schema/frame.ts";
import { makeKit, trade } from "./venue.testkit.ts";

const BTC = 4; // BTC-USDT: priceDecimals 2, sizeDecimals 8
const SHIB = 8; // SHIB-USDT: priceDecimals 9, sizeDecimals 5

describe("trade", () => {
  test("µs trade time to exact ns; m=true is a taker sell, m=false a taker buy", () => {
    const k = makeKit();
    k.send(trade("BTCUSDT", 10, "83034.29000000", "0.00062000", true, 1790649901913123));
    k.send(trade("BTCUSDT", 11, "83034.30000000", "1.00000000", false, 1790649901913999));
    const [a, b] = k.t.frames();
    expect(a).toMatchObject({
      kind: Kind.Trade,
      instrument: BTC,
      id: 10,
      price: 8303429,
      size: 62000,
      flags: FLAG_TAKER_SELL,
    });
    expect(b).toMatchObject({ id: 11, price: 8303430, size: 100000000, flags: FLAG_TAKER_BUY });
    expect(k.t.exchangeTimes()).toEqual([1790649901913123000n, 1790649901913999000n]);
    expect(a!.seq + 1).toBe(b!.seq);
  });

  test("ms trade time (no timeUnit) is also exact", () => {
    const k = makeKit();
    k.send(trade("BTCUSDT", 1, "1.00", "1", true, 1790649901913));
    expect(k.t.exchangeTimes()).toEqual([1790649901913000000n]);
  });

  test("any generated trade becomes exactly its decimal text", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 10_000_000_00 }),
        fc.integer({ min: 1, max: 2 ** 50 }),
        fc.boolean(),
        fc.integer({ min: 1e15, max: 4e15 }),
        (id, priceCents, qtySats, m, time) => {
          const k = makeKit();
          const p = `${formatFixed(priceCents, 2, false)}000000`;
          const q = formatFixed(qtySats, 8, false);
          k.send(trade("BTCUSDT", id, p, q, m, time));
          const [f] = k.t.frames();
          expect(f).toMatchObject({
            id,
            price: priceCents,
            size: qtySats,
            flags: m ? FLAG_TAKER_SELL : FLAG_TAKER_BUY,
          });
          expect(k.t.exchangeTimes()[0]).toBe(BigInt(time) * 1000n);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("the exact-layout fast path and the general reader agree (reformatted and reordered messages)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 45 }),
        fc.stringMatching(/^[1-9][0-9]{0,5}\.[0-9]{2}0{6}$/),
        fc.stringMatching(/^[0-9]{1,3}\.[0-9]{8}$/),
        fc.boolean(),
        (id, p, q, m) => {
          const compact = trade("BTCUSDT", id, p, q, m);
          const obj = JSON.parse(compact) as { stream: string; data: Record<string, unknown> };
          const reordered = JSON.stringify({
            data: Object.fromEntries(Object.entries(obj.data).reverse()),
            stream: obj.stream,
          });
          const results = [compact, JSON.stringify(obj, null, 2), reordered].map((text) => {
            const k = makeKit();
            k.send(text);
            return {
              frames: k.t.frames().map(({ seq, tsRecv, ...f }) => f),
              times: k.t.exchangeTimes(),
              errors: k.errors(),
            };
          });
          expect(results[1]).toEqual(results[0]!);
          expect(results[2]).toEqual(results[0]!);
          expect(results[0]!.frames.length + (results[0]!.errors.bad_number ?? 0)).toBe(1);
        },
      ),
      { numRuns: 150 },
    );
  });

  test("a value finer than the instrument holds is reported, not rounded; junk is a parse error", () => {
    const k = makeKit();
    k.send(trade("SHIBUSDT", 1, "0.00001234", "12.000001", true));
    k.send(trade("BTCUSDT", 1, "abc", "1", true));
    k.send(trade("BTCUSDT", 2, "-5.00", "1", true));
    k.send(trade("BTCUSDT", 3, "5.00", "0.00000000", true));
    expect(k.t.frames().map((f) => [f.kind, f.flags >> 4, f.instrument, f.id])).toEqual([
      [Kind.Status, Status.Unrepresentable, SHIB, 1],
    ]);
    expect(k.metric("collector_unrepresentable_total")).toBe(1);
    expect(k.errors()).toEqual({ bad_number: 3 });
  });

  test("an unrepresentable trade consumes its id: the next one reports no trade gap (issue 7 §3)", () => {
    const k = makeKit();
    k.send(trade("SHIBUSDT", 1, "0.00001234", "12", true));
    k.send(trade("SHIBUSDT", 2, "0.00001234", "12.000001", true)); // finer than SHIB-USDT's 5 size decimals
    k.send(trade("SHIBUSDT", 3, "0.00001234", "12", true));
    expect(k.t.frames().map((f) => [f.kind, f.kind === Kind.Status ? f.flags >> 4 : f.id])).toEqual([
      [Kind.Trade, 1],
      [Kind.Status, Status.Unrepresentable],
      [Kind.Trade, 3],
    ]);
    expect(k.metric("collector_trade_gaps_total")).toBe(0);
    expect(k.metric("collector_rejected_trades_total")).toBe(1);
  });

  test("a SHIB size beyond the registry's declared range is unrepresentable, never rounded", () => {
    const k = makeKit();
    k.send(trade("SHIBUSDT", 1, "0.00001234", "90000000000", true)); // maxSize: exact
    k.send(trade("SHIBUSDT", 2, "0.00001234", "90071992548", true)); // beyond 2^53 at 5 decimals
    expect(k.t.frames().map((f) => [f.kind, f.kind === Kind.Status ? f.flags >> 4 : f.size])).toEqual([
      [Kind.Trade, 9_000_000_000_000_000],
      [Kind.Status, Status.Unrepresentable],
    ]);
  });

  test("a skipped malformed trade does not consume its id (the sim's bad trade reuses the next id)", () => {
    const k = makeKit();
    k.send(trade("BTCUSDT", 1, "1.00", "1", true));
    k.send(trade("BTCUSDT", 2, "abc", "1", true));
    k.send(trade("BTCUSDT", 2, "1.01", "1", true));
    expect(k.t.frames().map((f) => [f.kind, f.id])).toEqual([
      [Kind.Trade, 1],
      [Kind.Trade, 2],
    ]);
  });
});

describe("bookTicker", () => {
  test("bid then ask with FLAG_ASK|FLAG_END, id = u, no exchange time; an empty side (zeros) passes", () => {
    const k = makeKit();
    k.send(
      '{"stream":"btcusdt@bookTicker","data":{"u":7,"s":"BTCUSDT","b":"0.00000000","B":"0.00000000","a":"2.50000000","A":"3.00000000"}}',
    );
    expect(k.t.frames().map((f) => [f.kind, f.flags, f.id, f.price, f.size, f.tsExchange])).toEqual([
      [Kind.Bbo, 0, 7, 0, 0, 0],
      [Kind.Bbo, FLAG_ASK | FLAG_END, 7, 250, 300000000, 0],
    ]);
  });
});

describe("messages that are not data", () => {
  test("serverShutdown (combined and raw) asks for a reconnect", () => {
    const k = makeKit();
    k.send('{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}');
    k.send('{"e":"serverShutdown","E":1770123456789}');
    expect(k.t.reconnects).toEqual(["server_shutdown", "server_shutdown"]);
    expect(k.errors()).toEqual({});
  });

  test("control responses are counted apart from errors", () => {
    const k = makeKit();
    k.send('{"result":null,"id":1}');
    k.send('{"result":true,"id":1000001}');
    k.send('{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":1}');
    expect(k.metric("collector_control_responses_total")).toBe(2);
    expect(k.errors()).toEqual({ exchange_error: 1 });
    expect(k.t.frames()).toEqual([]);
  });

  test("hostile input never throws and never leaves frames half-staged", () => {
    const k = makeKit();
    const good = trade("BTCUSDT", 99, "1.00000000", "1.00000000", true);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc
            .tuple(fc.nat(good.length), fc.string({ maxLength: 3 }))
            .map(([at, junk]) => good.slice(0, at) + junk),
          fc
            .tuple(fc.nat(good.length - 1), fc.nat(good.length))
            .map(([a, b]) => good.slice(0, a) + good.slice(a + 1 + (b % 3))),
        ),
        (text) => {
          const before = k.t.frames().length;
          expect(() => k.send(text)).not.toThrow();
          // A mutation can still be a valid trade (e.g. a shorter id); anything emitted must be a whole trade.
          for (const f of k.t.frames().slice(before))
            expect([Kind.Trade, Kind.Status] as number[]).toContain(f.kind);
          expect(k.t.ctx.emitter.pending).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("adapter surface", () => {
  test("one URL with every stream, lowercase, microsecond times; nothing to send on open; keepalive ids", () => {
    const k = makeKit({}, { BINANCE_WS_URL: "ws://127.0.0.1:1/binance/" });
    const url = k.adapter.url();
    expect(url).toStartWith(
      "ws://127.0.0.1:1/binance/stream?streams=btcusdt@trade/btcusdt@depth@100ms/btcusdt@bookTicker/",
    );
    expect(url).toEndWith("&timeUnit=MICROSECOND");
    expect(url.split("/stream?streams=")[1]!.split("&")[0]!.split("/")).toHaveLength(12);
    expect(k.adapter.subscribeMessages()).toEqual([]);
    expect(JSON.parse(k.adapter.ping())).toEqual({
      method: "GET_PROPERTY",
      params: ["combined"],
      id: 1000001,
    });
    expect(k.adapter.maxConnectionMs).toBe(23.5 * 3600_000);
    expect(k.adapter.resyncsPerMinute).toBe(60); // 3000 weight/min at 50 per limit-1000 snapshot
  });

  test("more symbols than 1024 streams allow fails at start-up, naming the variable", () => {
    const many = Array.from({ length: 342 }, (_, i) => ({
      id: 2000 + i,
      symbol: `X${i}-USDT`,
      base: `X${i}`,
      quote: "USDT",
      priceDecimals: 2,
      sizeDecimals: 2,
      venues: { binance: { symbol: `X${i}USDT`, pricePrecision: 2, qtyPrecision: 2 } },
    }));
    expect(() => makeKit({}, {}, many)).toThrow(ConfigError);
    expect(() => makeKit({}, {}, many)).toThrow(/TAPEWIRE_INSTRUMENTS.*1024 streams/);
  });
});
