// Binance order book sync: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#how-to-manage-a-local-order-book-correctly
// Depth conformance cases: recorded diffs, REST snapshots, and what the book sync must emit.
import type { ConformanceCase } from "../core/conformance.testkit.ts";
import {
  BNB_BTC,
  combined,
  fixture,
  GNT_BTC,
  level,
  lines,
  openResyncs,
  rest,
  synced,
} from "./conformance-kit.testkit.ts";

export function depthCases(): ConformanceCase[] {
  // gntbtc@depth, tardis recording (2019): three consecutive diffs, the third overlapping the second.
  const tardis = lines("tardis_recorded_2019.jsonl");
  const DIFF1 = tardis[3]!;
  const DIFF2 = tardis[4]!;
  const DIFF3 = tardis[5]!;
  const E1 = "1554076807698000000";
  const E2 = "1554076808698000000";
  const E3 = "1554076809699000000";
  const diff1Frames = [
    level("bid", "0.00002246", "1215", "41603413", E1),
    level("bid", "0.00002245", "2673", "41603413", E1),
    level("bid", "0.00002244", "390", "41603413", E1),
    level("bid", "0.00002239", "2126", "41603413", E1),
    level("ask", "0.00002267", "0", "41603413", E1),
    level("ask", "0.00002269", "7840", "41603413", E1, ["end"]),
  ];
  const diff2Frames = [
    level("bid", "0.00002248", "114", "41603418", E2),
    level("bid", "0.00002246", "375", "41603418", E2),
    level("ask", "0.00002253", "3945", "41603418", E2, ["end"]),
  ];
  const diff3Frames = [
    level("ask", "0.00002257", "0", "41603419", E3),
    level("ask", "0.00002262", "6080", "41603419", E3, ["end"]),
  ];
  // Snapshots for GNTBTC are constructed for these cases (no recorded one matches the recorded diffs).
  const SNAP_410 = rest("GNTBTC", {
    lastUpdateId: 41603410,
    bids: [
      ["0.00002240", "1000.00000000"],
      ["0.00002239", "50.00000000"],
    ],
    asks: [
      ["0.00002267", "500.00000000"],
      ["0.00002270", "20.00000000"],
    ],
  });
  const snap410Frames = [
    level("bid", "0.0000224", "1000", "41603410", "0", ["snapshot", "begin"]),
    level("bid", "0.00002239", "50", "41603410", "0", ["snapshot"]),
    level("ask", "0.00002267", "500", "41603410", "0", ["snapshot"]),
    level("ask", "0.0000227", "20", "41603410", "0", ["snapshot", "end"]),
  ];
  const SNAP_416 = rest("GNTBTC", {
    lastUpdateId: 41603416,
    bids: [["0.00002246", "400.00000000"]],
    asks: [["0.00002253", "4000.00000000"]],
  });
  const snap416Frames = [
    level("bid", "0.00002246", "400", "41603416", "0", ["snapshot", "begin"]),
    level("ask", "0.00002253", "4000", "41603416", "0", ["snapshot", "end"]),
  ];

  return [
    {
      name: "depth: buffered diff overlapping the snapshot is applied first, then steady state (overlap allowed)",
      source: "collectors/binance/fixtures/tardis_recorded_2019.jsonl lines 4-6; GNTBTC snapshot constructed",
      instruments: [GNT_BTC],
      messages: [DIFF1, SNAP_410, DIFF2, DIFF3],
      kinds: ["book", "status"],
      expected: [
        ...openResyncs("GNT-BTC"),
        ...snap410Frames,
        ...diff1Frames,
        synced("GNT-BTC", "41603413"),
        ...diff2Frames,
        ...diff3Frames,
      ],
    },
    {
      name: "depth: docs snapshot discards the buffered docs diff (u <= lastUpdateId)",
      source: "collectors/binance/fixtures/docs_depthUpdate.json, docs_rest_depth_response.json",
      instruments: [BNB_BTC],
      messages: [
        combined("bnbbtc@depth@100ms", fixture("docs_depthUpdate.json")),
        rest("BNBBTC", JSON.parse(fixture("docs_rest_depth_response.json"))),
      ],
      kinds: ["book", "status"],
      expected: [
        ...openResyncs("BNB-BTC"),
        {
          kind: "book",
          symbol: "BNB-BTC",
          side: "bid",
          price: "4",
          size: "431",
          id: "1027024",
          tsExchange: "0",
          flags: ["snapshot", "begin"],
        },
        {
          kind: "book",
          symbol: "BNB-BTC",
          side: "ask",
          price: "4.000002",
          size: "12",
          id: "1027024",
          tsExchange: "0",
          flags: ["snapshot", "end"],
        },
        synced("BNB-BTC", "1027024"),
      ],
    },
    {
      name: "depth: U > book id + 1 is a gap → Gap + BookResync for that symbol, diffs buffered, next snapshot resyncs",
      source:
        "collectors/binance/fixtures/tardis_recorded_2019.jsonl lines 5-6; GNTBTC snapshots constructed",
      instruments: [GNT_BTC],
      messages: [SNAP_410, DIFF2, DIFF3, SNAP_416],
      kinds: ["book", "status"],
      expected: [
        ...openResyncs("GNT-BTC"),
        ...snap410Frames,
        synced("GNT-BTC", "41603410"),
        { kind: "status", symbol: "GNT-BTC", status: "gap", id: "41603411" },
        { kind: "status", symbol: "GNT-BTC", status: "book_resync", reason: "sequence_gap" },
        ...snap416Frames,
        ...diff2Frames,
        ...diff3Frames,
        synced("GNT-BTC", "41603419"),
      ],
    },
    {
      name: "depth: a snapshot older than the first buffered diff is refused (fetched again), the next one applies",
      source: "collectors/binance/fixtures/tardis_recorded_2019.jsonl line 5; GNTBTC snapshots constructed",
      instruments: [GNT_BTC],
      messages: [DIFF2, SNAP_410, SNAP_416],
      kinds: ["book", "status"],
      expected: [...openResyncs("GNT-BTC"), ...snap416Frames, ...diff2Frames, synced("GNT-BTC", "41603418")],
    },
    {
      name: "depth: a diff that crosses the book → BookResync (crossed_book) for that symbol",
      source: "collectors/binance/fixtures/tardis_recorded_2019.jsonl line 5; GNTBTC snapshot constructed",
      instruments: [GNT_BTC],
      messages: [
        rest("GNTBTC", {
          lastUpdateId: 41603413,
          bids: [["0.00002255", "10.00000000"]],
          asks: [["0.00002269", "7840.00000000"]],
        }),
        DIFF2,
      ],
      kinds: ["book", "status"],
      expected: [
        ...openResyncs("GNT-BTC"),
        level("bid", "0.00002255", "10", "41603413", "0", ["snapshot", "begin"]),
        level("ask", "0.00002269", "7840", "41603413", "0", ["snapshot", "end"]),
        synced("GNT-BTC", "41603413"),
        ...diff2Frames,
        { kind: "status", symbol: "GNT-BTC", status: "book_resync", reason: "crossed_book" },
      ],
    },
  ];
}
