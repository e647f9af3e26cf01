// Binance spot: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md
// Conformance cases for trades, book tickers and non-data messages (acks, errors, shutdown, junk).
import type { ConformanceCase } from "../core/conformance.testkit.ts";
import { BNB_BTC, BNB_USDT, combined, fixture, lines, openResyncs } from "./conformance-kit.testkit.ts";

export function messageCases(): ConformanceCase[] {
  const CAPTURED_TRADE = fixture("captured_trade_combined_2026-09-29.json");

  return [
    {
      name: "trade: captured current-format frame; m=true is a taker sell; a replay of it is dropped",
      source: "collectors/binance/fixtures/captured_trade_combined_2026-09-29.json",
      messages: [CAPTURED_TRADE, CAPTURED_TRADE],
      kinds: ["trade"],
      expected: [
        {
          kind: "trade",
          symbol: "BTC-USDT",
          side: "sell",
          id: "6720857582",
          price: "83034.29",
          size: "0.00062",
          tsExchange: "1790649901913000000",
        },
      ],
    },
    {
      name: "trade: recorded 2019 trades (m=false is a taker buy) and the trade-id jump between them",
      source: "collectors/binance/fixtures/tardis_recorded_2019.jsonl lines 1-2",
      instruments: [BNB_BTC],
      messages: lines("tardis_recorded_2019.jsonl").slice(0, 2),
      kinds: ["trade", "status"],
      expected: [
        ...openResyncs("BNB-BTC"),
        {
          kind: "trade",
          symbol: "BNB-BTC",
          side: "buy",
          id: "40756030",
          price: "0.0042699",
          size: "33.82",
          tsExchange: "1554076800940000000",
        },
        { kind: "status", symbol: "BNB-BTC", status: "trade_gap", id: "40756031" },
        {
          kind: "trade",
          symbol: "BNB-BTC",
          side: "sell",
          id: "60276726",
          price: "0.0021965",
          size: "6.48",
          tsExchange: "1567296001034000000",
        },
      ],
    },
    {
      name: "bookTicker: recorded BTCUSDT and the docs BNBUSDT example → bid, then ask with END; no exchange time",
      source: "collectors/binance/fixtures/tardis_recorded_2019.jsonl line 3, docs_bookTicker.json",
      instruments: [BNB_USDT],
      messages: [
        lines("tardis_recorded_2019.jsonl")[2]!,
        combined("bnbusdt@bookTicker", fixture("docs_bookTicker.json")),
      ],
      kinds: ["bbo"],
      expected: [
        {
          kind: "bbo",
          symbol: "BTC-USDT",
          side: "bid",
          flags: [],
          id: "1127645101",
          price: "8010",
          size: "0.142459",
          tsExchange: "0",
        },
        {
          kind: "bbo",
          symbol: "BTC-USDT",
          side: "ask",
          flags: ["end"],
          id: "1127645101",
          price: "8012.15",
          size: "0.031201",
          tsExchange: "0",
        },
        {
          kind: "bbo",
          symbol: "BNB-USDT",
          side: "bid",
          flags: [],
          id: "400900217",
          price: "25.3519",
          size: "31.21",
          tsExchange: "0",
        },
        {
          kind: "bbo",
          symbol: "BNB-USDT",
          side: "ask",
          flags: ["end"],
          id: "400900217",
          price: "25.3652",
          size: "40.66",
          tsExchange: "0",
        },
      ],
    },
    {
      name: "control: acks and property responses pass; nested errors, malformed, unsubscribed and raw payloads are counted",
      source:
        "collectors/binance/fixtures/docs_subscribe_response.json, docs_list_subscriptions.jsonl, docs_set_property.jsonl, " +
        "captured_subscribe_error_nested.jsonl, docs_aggTrade.json, docs_partial_depth.json, docs_trade.json, docs_serverShutdown.jsonl",
      instruments: [BNB_BTC],
      messages: [
        fixture("docs_subscribe_response.json"),
        lines("docs_list_subscriptions.jsonl")[1]!,
        lines("docs_set_property.jsonl")[1]!,
        lines("docs_set_property.jsonl")[3]!,
        ...lines("captured_subscribe_error_nested.jsonl"), // 2 errors
        CAPTURED_TRADE.slice(0, 60), // truncated: malformed JSON
        combined("bnbbtc@aggTrade", fixture("docs_aggTrade.json")), // a stream we never subscribe
        fixture("docs_partial_depth.json"), // raw payload without the combined envelope
        fixture("docs_trade.json"), // same
        lines("docs_serverShutdown.jsonl")[1]!, // reconnect, not an error
      ],
      kinds: ["trade", "book", "bbo"],
      expected: [],
      parseErrors: 6,
    },
    {
      name: "unrepresentable: a price finer than the instrument's decimals is reported, never rounded",
      source:
        "collectors/binance/fixtures/captured_trade_combined_2026-09-29.json, price altered to 83034.29100000",
      messages: [CAPTURED_TRADE.replace('"p":"83034.29000000"', '"p":"83034.29100000"')],
      kinds: ["trade", "status"],
      expected: [
        ...openResyncs(),
        { kind: "status", symbol: "BTC-USDT", status: "unrepresentable", id: "1" },
      ],
    },
  ];
}
