import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ConfigError } from "../../lib/config.ts";
import { formatFixed } from "../../schema/decimal.ts";
import { FLAG_TAKER_BUY, FLAG_TAKER_SELL, Kind, ResyncReason, Status } from "../../schema/frame.ts";
import { tradeLayout } from "./trades.ts";
import { fixture, harness, MATIC } from "./venue.testkit.ts";

const trade = (fields: string) => `{"channel":"trade","type":"update","data":[{${fields}}]}`;
const maticTrade = (price: string, qty: string, id: number, side = "buy") =>
  trade(
    `"symbol":"MATIC/USD","side":"${side}","price":${price},"qty":${qty},"ord_type":"limit","trade_id":${id},"timestamp":"2023-09-25T07:49:37.708706Z"`,
  );

describe("Kraken adapter", () => {
  test("subscribes instrument first, trades with snapshot, books at the configured depth, ticker on bbo", () => {
    const h = harness({ KRAKEN_BOOK_DEPTH: "25", KRAKEN_SYMBOLS: "BTC-USD,ETH/USD" });
    const subs = h.adapter.subscribeMessages().map((m) => JSON.parse(m));
    expect(subs.map((s) => s.params)).toEqual([
      { channel: "instrument", snapshot: true },
      { channel: "trade", symbol: ["BTC/USD", "ETH/USD"], snapshot: true },
      { channel: "book", symbol: ["BTC/USD", "ETH/USD"], depth: 25, snapshot: true },
      { channel: "ticker", symbol: ["BTC/USD", "ETH/USD"], event_trigger: "bbo", snapshot: true },
    ]);
    expect(new Set(subs.map((s) => s.req_id)).size).toBe(4);
  });

  test("bad settings fail fast and name the variable", () => {
    expect(() => harness({ KRAKEN_BOOK_DEPTH: "7" })).toThrow(/KRAKEN_BOOK_DEPTH/);
    expect(() => harness({ KRAKEN_SYMBOLS: "DOGE-USD" })).toThrow(ConfigError);
    expect(() => harness({ KRAKEN_WS_URL: "http://x" })).toThrow(/KRAKEN_WS_URL/);
    expect(() => harness({ KRAKEN_PING_INTERVAL_MS: "soon" })).toThrow(/KRAKEN_PING_INTERVAL_MS/);
  });

  test("prices and sizes are the exact wire digits, trailing zeros or exponents alike", () => {
    const h = harness();
    let id = 1;
    fc.assert(
      fc.property(
        // A trade's price and size are positive (schema/frame.ts valueError).
        fc.integer({ min: 1, max: 10 ** 10 }),
        fc.integer({ min: 1, max: 10 ** 15 }),
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        (price, size, pad, sell) => {
          // MATIC frames: 6 price decimals, 8 size decimals; Kraken may pad with zeros beyond them.
          const p = formatFixed(price, 6, false) + "0".repeat(pad);
          const q = pad === 4 ? `${size}e-8` : formatFixed(size, 8, pad % 2 === 0);
          h.send(maticTrade(p, q, id++, sell ? "sell" : "buy"));
          const f = h.frames().at(-1)!;
          expect(f).toMatchObject({ kind: Kind.Trade, price, size, id: id - 1 });
          expect(f.flags).toBe(sell ? FLAG_TAKER_SELL : FLAG_TAKER_BUY);
        },
      ),
    );
    expect(h.parseErrors()).toBe(0);
  });

  test("Kraken's own layout (fast match) and any other layout (general walk) give identical frames", () => {
    const fast = harness();
    const general = harness();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            price: fc.integer({ min: 0, max: 10 ** 9 }),
            qty: fc.integer({ min: 1, max: 10 ** 12 }),
            side: fc.constantFrom("buy", "sell", "neither"),
            ord: fc.constantFrom("limit", "market"),
            us: fc.integer({ min: 0, max: 999_999 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.integer({ min: 1, max: 10 ** 9 }),
        (trades, firstId) => {
          const fields = trades.map((t, k) => ({
            symbol: '"MATIC/USD"',
            side: `"${t.side}"`,
            price: formatFixed(t.price, 6, false),
            qty: formatFixed(t.qty, 8, false),
            ord_type: `"${t.ord}"`,
            trade_id: String(firstId + k),
            timestamp: `"2023-09-25T07:49:37.${String(t.us).padStart(6, "0")}Z"`,
          }));
          const kraken = fields.map(
            (f) =>
              `{${Object.entries(f)
                .map(([k, v]) => `"${k}":${v}`)
                .join(",")}}`,
          );
          const other = fields.map(
            (f) =>
              `{ ${Object.entries(f)
                .reverse()
                .map(([k, v]) => `"${k}" : ${v}`)
                .join(" , ")} }`,
          );
          // Ids restart per run (and per shrink): forget what the trackers saw so every run is accepted.
          fast.ctx.trades.forget(1000);
          general.ctx.trades.forget(1000);
          const before = [fast.frames().length, general.frames().length];
          const layout = { ...tradeLayout };
          fast.send(`{"channel":"trade","type":"update","data":[${kraken.join(",")}]}`);
          // The layout match only knows real sides; "neither" takes the general walk (and is counted bad_side).
          const fastOnes = trades.filter((t) => t.side !== "neither").length;
          expect(tradeLayout.fast - layout.fast).toBe(fastOnes);
          general.send(`{"channel":"trade","type":"update","data":[${other.join(", ")}]}`);
          const strip = (f: { seq: number; tsRecv: number }) => ({ ...f, seq: 0, tsRecv: 0 });
          expect(fast.frames().slice(before[0]).map(strip)).toEqual(
            general.frames().slice(before[1]).map(strip),
          );
          expect(fast.exchangeTimes()).toEqual(general.exchangeTimes());
          expect(fast.parseErrors()).toBe(general.parseErrors());
        },
      ),
    );
    expect(fast.frames().length).toBeGreaterThan(100);
  });

  test("batched trades: a bad one is reported alone, the rest are kept", () => {
    const h = harness();
    const good = (id: number) =>
      `{"symbol":"MATIC/USD","side":"sell","price":0.5117,"qty":40.0,"ord_type":"market","trade_id":${id},"timestamp":"2023-09-25T07:49:37.708706Z"}`;
    const bad = good(11).replace("0.5117", "0.51170001"); // 8 decimals > MATIC's 6
    h.send(`{"channel":"trade","type":"update","data":[${good(10)},${bad},${good(12)}]}`);
    const kinds = h
      .frames()
      .map((f) => (f.kind === Kind.Status ? `status:${f.flags >> 4}` : `trade:${f.id}`));
    // 11 never became a frame, but Kraken did send it: a local rejection, not a trade-id gap (issue 7 §3).
    expect(kinds).toEqual(["trade:10", `status:${Status.Unrepresentable}`, "trade:12"]);
    expect(h.ctx.metrics.unrepresentable.value).toBe(1);
    expect(h.ctx.metrics.rejectedTrades.value).toBe(1);
    expect(h.ctx.metrics.tradeGaps.value).toBe(0);
  });

  test("a trade with an unreadable time is kept with tsExchange 0 and counted", () => {
    const h = harness();
    h.send(maticTrade("0.5117", "40.0", 5).replace("2023-09-25T07:49:37.708706Z", "yesterday"));
    expect(h.exchangeTimes()).toEqual([0n]);
    expect(h.parseErrors("bad_timestamp")).toBe(1);
  });

  test("keys in any order, whitespace, and a status whose data precedes its type", () => {
    const h = harness();
    h.send(
      ` { "data" : [ { "trade_id" : 7 , "timestamp":"2023-09-25T07:49:37.708706Z", "qty":1.5, "price":0.5,"side":"sell","symbol":"MATIC/USD"} ] ,"type":"update", "channel" : "trade" } `,
    );
    expect(h.frames()).toEqual([
      expect.objectContaining({ kind: Kind.Trade, id: 7, price: 500000, size: 150000000 }),
    ]);
    h.send(maticTrade("0.5", "1", 8).replace("MATIC/USD", "MATIC\\/USD"));
    expect(h.frames().at(-1)).toMatchObject({ kind: Kind.Trade, id: 8, instrument: 1000 });
    h.send(fixture("v2_docs_status.json"));
    expect(h.adapter.control.system).toBe("online");
    expect(h.parseErrors()).toBe(0);
  });

  test("instrument precision replaces the registry's and a later change is honoured", () => {
    const wrong = {
      ...MATIC,
      venues: { kraken: { symbol: "MATIC/USD", pricePrecision: 3, qtyPrecision: 8 } },
    };
    const h = harness({}, [wrong]);
    const instrument = (pp: number) =>
      `{"channel":"instrument","type":"update","data":{"assets":[],"pairs":[{"symbol":"MATIC/USD","base":"MATIC","quote":"USD","status":"online","qty_precision":8,"qty_increment":1e-08,"price_precision":${pp},"price_increment":0.0001}]}}`;
    // With the registry's precision 3 the documented checksum cannot match.
    h.send(fixture("v2_docs_book_snapshot_MATICUSD.json"));
    expect(h.ctx.metrics.checksumFailures.value).toBe(1);
    h.send(instrument(4));
    h.send(fixture("v2_docs_book_snapshot_MATICUSD.json"));
    h.send(fixture("v2_docs_book_update_MATICUSD.json"));
    expect(h.ctx.metrics.checksumFailures.value).toBe(1);
    h.send(instrument(5));
    h.send(fixture("v2_docs_book_update_MATICUSD.json"));
    expect(h.ctx.metrics.checksumFailures.value).toBe(2);
    expect(
      h.frames().filter((f) => f.kind === Kind.Status && f.flags >> 4 === Status.BookResync),
    ).toHaveLength(2);
    expect(h.frames().filter((f) => f.kind === Kind.Status)[0]).toMatchObject({ id: ResyncReason.Checksum });
    h.ctx.resyncs.stop();
  });

  test("pings carry fresh req_ids; pongs answer them; silence reconnects", () => {
    const h = harness();
    const a = JSON.parse(h.adapter.ping());
    const b = JSON.parse(h.adapter.ping());
    expect(a.method).toBe("ping");
    expect(b.req_id).toBeGreaterThan(a.req_id);
    h.send(fixture("v2_docs_pong.json"));
    expect(h.adapter.control.unansweredPings).toBe(0);
    for (let i = 0; i < 4; i++) h.adapter.ping();
    expect(h.reconnects).toEqual(["pong_timeout"]);
  });

  test("heartbeats, acks and errors: counted by channel, refusals as parse errors", () => {
    const h = harness();
    h.send(fixture("v2_docs_heartbeat.json"));
    h.send(fixture("v2_docs_trade_subscribe_ack.json"));
    for (const line of fixture("v2_captured_subscribe_error.jsonl").split("\n")) h.send(line);
    const text = h.ctx.metrics.registry.render();
    expect(text).toContain('channel="heartbeat"} 1');
    expect(text).toContain('channel="ack"} 3');
    expect(h.parseErrors("error_ack")).toBe(2);
    expect(h.adapter.control.errorAcks).toBe(2);
  });

  test("hostile input never throws and never leaves frames half-staged", () => {
    const h = harness();
    const samples = [
      fixture("v2_docs_trade_snapshot.json"),
      fixture("v2_docs_trade_update.json"),
      fixture("v2_docs_book_snapshot_MATICUSD.json"),
      fixture("v2_docs_book_update_MATICUSD.json"),
      fixture("v2_docs_ticker_snapshot_ALGOUSD.json"),
      fixture("v2_docs_status.json"),
      fixture("v2_docs_instrument_snapshot.json"),
    ];
    const mutate = fc
      .tuple(fc.constantFrom(...samples), fc.nat(), fc.nat({ max: 40 }), fc.string({ maxLength: 6 }))
      .map(([s, at, cut, insert]) => {
        const i = at % (s.length + 1);
        return s.slice(0, i) + insert + s.slice(Math.min(s.length, i + cut));
      });
    fc.assert(
      fc.property(fc.oneof(mutate, fc.string(), fc.json()), (text) => {
        h.send(text);
        expect(h.ctx.emitter.pending).toBe(0);
      }),
      { numRuns: 2000 },
    );
    h.ctx.resyncs.stop();
  });
});
