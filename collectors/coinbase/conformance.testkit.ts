// Conformance cases: recorded Coinbase Advanced Trade messages (fixtures/, copied from shared/fixtures with
// their README's sources) and the frames a reader of each fixture writes down by hand: exact decimal
// strings, taker sides, ids, exchange times in ns since the epoch.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels
import { readFileSync } from "node:fs";
import { DEFAULT_INSTRUMENTS, type Instrument } from "../../schema/instruments.ts";
import type { ConformanceCase, ExpectedFrame, VenueConformance } from "../core/conformance.testkit.ts";
import { coinbaseVenue } from "./index.ts";

const DIR = "collectors/coinbase/fixtures";
const file = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const lines = (name: string) =>
  file(name)
    .split("\n")
    .filter((l) => l.trim() !== "");

/** The perpetual in the live capture is not a default instrument. */
const BTC_PERP: Instrument = {
  id: 1000,
  symbol: "BTCPERP-INTX",
  base: "BTCPERP",
  quote: "INTX",
  priceDecimals: 2,
  sizeDecimals: 8,
  venues: { coinbase: { symbol: "BTC-PERP-INTX", pricePrecision: 1, qtyPrecision: 4 } },
};

const COINBASE_SYMBOLS = DEFAULT_INSTRUMENTS.filter((i) => i.venues.coinbase).map((i) => i.symbol);

/** A sequence_num gap resyncs every level2 book on the connection, each with its own status frame. */
function gapResyncs(symbols: string[]): ExpectedFrame[] {
  return symbols.map((symbol) => ({
    kind: "status",
    symbol,
    status: "book_resync",
    reason: "sequence_gap",
    id: "2",
  }));
}

const book = (
  side: "bid" | "ask",
  price: string,
  size: string,
  flags: ExpectedFrame["flags"],
  id: string,
  tsExchange: string,
): ExpectedFrame => ({ kind: "book", symbol: "BTC-USD", side, price, size, flags, id, tsExchange });

const NAUTILUS_SNAPSHOT_TS = "1775572200123456000";
const nautilusSnapshotFrames: ExpectedFrame[] = [
  book("bid", "68900", "1.5", ["snapshot", "begin"], "0", NAUTILUS_SNAPSHOT_TS),
  book("bid", "68899.5", "0.75", ["snapshot"], "0", NAUTILUS_SNAPSHOT_TS),
  book("bid", "68899", "2.3", ["snapshot"], "0", NAUTILUS_SNAPSHOT_TS),
  book("ask", "68901", "0.5", ["snapshot"], "0", NAUTILUS_SNAPSHOT_TS),
  book("ask", "68901.5", "1.2", ["snapshot"], "0", NAUTILUS_SNAPSHOT_TS),
  book("ask", "68902", "0.8", ["snapshot", "end"], "0", NAUTILUS_SNAPSHOT_TS),
];
const nautilusUpdateFrames: ExpectedFrame[] = [
  book("bid", "68900", "2", [], "1", "1775572201456789000"),
  book("ask", "68901", "0", ["end"], "1", "1775572201456789000"),
];

/** The same message with another sequence_num (the sim and the live feed number the whole connection). */
const withSeq = (text: string, seq: number) =>
  text.replace(/"sequence_num":\s*\d+/, `"sequence_num": ${seq}`);

function cases(): ConformanceCase[] {
  const snapshot = file("advanced_nautilus_synthetic_ws_l2_data_snapshot.json");
  const update = file("advanced_nautilus_synthetic_ws_l2_data_update.json");
  const captured = lines("advanced_captured_frames_2026-09-30.jsonl");
  const session = lines("advanced_captured_session_2026-09-05.jsonl");
  return [
    {
      name: "docs level2 snapshot: l2_data, bid levels, trimmed decimals, BEGIN/END",
      source: `${DIR}/advanced_docs_level2_snapshot.json`,
      messages: [file("advanced_docs_level2_snapshot.json")],
      expected: [
        book("bid", "21921.73", "0.06317902", ["snapshot", "begin"], "0", "1675974770714964855"),
        book("bid", "21921.3", "0.02", ["snapshot", "end"], "0", "1675974770714964855"),
      ],
    },
    {
      name: "level2 snapshot then update: offer side, new_quantity 0 removes, END on the update's last level",
      source: `${DIR}/advanced_nautilus_synthetic_ws_l2_data_{snapshot,update}.json`,
      messages: [snapshot, update],
      expected: [...nautilusSnapshotFrames, ...nautilusUpdateFrames],
    },
    {
      name: "a repeated sequence_num is counted and ignored",
      source: `${DIR}/advanced_nautilus_synthetic_ws_l2_data_{snapshot,update}.json (update sent twice)`,
      messages: [snapshot, update, update],
      expected: [...nautilusSnapshotFrames, ...nautilusUpdateFrames],
      parseErrors: 1,
    },
    {
      name: "sequence gap: Gap status, every book resyncs, updates dropped until the fresh snapshot, BookSynced",
      source: `${DIR}/advanced_nautilus_synthetic_ws_l2_data_{snapshot,update}.json (sequence_num 0, 5, 6)`,
      messages: [snapshot, withSeq(update, 5), withSeq(snapshot, 6)],
      expected: [
        ...nautilusSnapshotFrames,
        { kind: "status", symbol: "", status: "gap", id: "1" },
        ...gapResyncs(COINBASE_SYMBOLS),
        ...nautilusSnapshotFrames.map((f) => ({ ...f, id: "6" })),
        { kind: "status", symbol: "BTC-USD", status: "book_synced", id: "0" },
      ],
    },
    {
      name: "captured production market_trades: string trade ids, 3-digit envelope fraction, taker sides",
      source: `${DIR}/advanced_captured_frames_2026-09-30.jsonl (line 1)`,
      messages: [captured[0]!],
      expected: [
        {
          kind: "trade",
          symbol: "ETH-USD",
          side: "sell",
          id: "846149798",
          price: "2668.35",
          size: "0.03710506",
          tsExchange: "1790732485375232000",
        },
        {
          kind: "trade",
          symbol: "ETH-USD",
          side: "buy",
          id: "846149799",
          price: "2668.36",
          size: "1",
          tsExchange: "1790732485375232000",
        },
      ],
    },
    {
      name: "captured user ack and heartbeat: sequence_num 1 then 3 is a gap of one on this connection",
      source: `${DIR}/advanced_captured_frames_2026-09-30.jsonl (lines 2-3)`,
      messages: [captured[1]!, captured[2]!],
      expected: [{ kind: "status", symbol: "", status: "gap", id: "2" }, ...gapResyncs(COINBASE_SYMBOLS)],
    },
    {
      name: "captured live session: ticker BBO on a perpetual, acks and heartbeat numbered with it, gaps reported",
      source: `${DIR}/advanced_captured_session_2026-09-05.jsonl`,
      instruments: [BTC_PERP],
      messages: session,
      expected: [
        {
          kind: "bbo",
          symbol: "BTCPERP-INTX",
          side: "bid",
          flags: [],
          id: "0",
          price: "79879",
          size: "2.9352",
          tsExchange: "1788646229562008293",
        },
        {
          kind: "bbo",
          symbol: "BTCPERP-INTX",
          side: "ask",
          flags: ["end"],
          id: "0",
          price: "79879.1",
          size: "1.7389",
          tsExchange: "1788646229562008293",
        },
        { kind: "status", symbol: "", status: "gap", id: "1" },
        ...gapResyncs([...COINBASE_SYMBOLS, "BTCPERP-INTX"]),
        { kind: "status", symbol: "", status: "gap", id: "5" },
        ...gapResyncs([...COINBASE_SYMBOLS, "BTCPERP-INTX"]),
        {
          kind: "bbo",
          symbol: "BTCPERP-INTX",
          side: "bid",
          flags: [],
          id: "91",
          price: "79914.5",
          size: "0.7944",
          tsExchange: "1788645130940239371",
        },
        {
          kind: "bbo",
          symbol: "BTCPERP-INTX",
          side: "ask",
          flags: ["end"],
          id: "91",
          price: "79914.6",
          size: "0.7554",
          tsExchange: "1788645130940239371",
        },
      ],
    },
    {
      name: 'docs market_trades snapshot: trade_id "000000000", millisecond time',
      source: `${DIR}/advanced_docs_market_trades.json`,
      messages: [file("advanced_docs_market_trades.json")],
      expected: [
        {
          kind: "trade",
          symbol: "ETH-USD",
          side: "buy",
          id: "0",
          price: "1260.01",
          size: "0.3",
          tsExchange: "1565815347265000000",
        },
      ],
    },
    {
      name: "market_trades update with two trades in id order",
      source: `${DIR}/advanced_nautilus_synthetic_ws_market_trades.json`,
      messages: [file("advanced_nautilus_synthetic_ws_market_trades.json")],
      expected: [
        {
          kind: "trade",
          symbol: "BTC-USD",
          side: "buy",
          id: "995098700",
          price: "68900.5",
          size: "0.0015",
          tsExchange: "1775572202789012000",
        },
        {
          kind: "trade",
          symbol: "BTC-USD",
          side: "sell",
          id: "995098701",
          price: "68900",
          size: "0.05",
          tsExchange: "1775572202800000000",
        },
      ],
    },
    {
      name: "docs ticker: best bid/ask → bid frame, then ask frame with END",
      source: `${DIR}/advanced_docs_ticker.json`,
      messages: [file("advanced_docs_ticker.json")],
      expected: [
        {
          kind: "bbo",
          symbol: "BTC-USD",
          side: "bid",
          flags: [],
          id: "0",
          price: "21931.98",
          size: "8000.21",
          tsExchange: "1675974637167359596",
        },
        {
          kind: "bbo",
          symbol: "BTC-USD",
          side: "ask",
          flags: ["end"],
          id: "0",
          price: "21933.98",
          size: "8038.07770938",
          tsExchange: "1675974637167359596",
        },
      ],
    },
    {
      name: "ticker with zero-padded decimals",
      source: `${DIR}/advanced_nautilus_synthetic_ws_ticker.json`,
      messages: [file("advanced_nautilus_synthetic_ws_ticker.json")],
      expected: [
        { kind: "bbo", symbol: "BTC-USD", side: "bid", flags: [], id: "12", price: "68900", size: "1.5" },
        {
          kind: "bbo",
          symbol: "BTC-USD",
          side: "ask",
          flags: ["end"],
          id: "12",
          price: "68901",
          size: "0.5",
        },
      ],
    },
    {
      name: "heartbeats (counter as string or integer) and acks make no frames; exchange errors are counted",
      source: `${DIR}/advanced_docs_heartbeats.json, advanced_nautilus_synthetic_ws_subscriptions.json, advanced_captured_errors.jsonl`,
      messages: [
        file("advanced_docs_heartbeats.json"),
        withSeq(file("advanced_nautilus_synthetic_ws_heartbeats.json"), 1),
        withSeq(file("advanced_nautilus_synthetic_ws_subscriptions.json"), 2),
        ...lines("advanced_captured_errors.jsonl"),
      ],
      expected: [],
      parseErrors: 2,
    },
    {
      name: "a truncated message is counted and skipped, the next one still parses",
      source: `${DIR}/advanced_docs_ticker.json (cut in half, then whole)`,
      messages: [file("advanced_docs_ticker.json").slice(0, 200), file("advanced_docs_ticker.json")],
      expected: [
        {
          kind: "bbo",
          symbol: "BTC-USD",
          side: "bid",
          flags: [],
          id: "0",
          price: "21931.98",
          size: "8000.21",
        },
        { kind: "bbo", symbol: "BTC-USD", side: "ask", flags: ["end"], id: "0", price: "21933.98" },
      ],
      parseErrors: 1,
    },
  ];
}

export const coinbaseConformance: VenueConformance = {
  exchange: "coinbase",
  factory: coinbaseVenue,
  cases: cases(),
};
