// stats(): what tests compare against (connections, messages, last trade ids, book tops).
import type { VenueCounters } from "./counters.ts";
import type { Faults } from "./faults.ts";
import { fixed } from "./format.ts";
import type { Market } from "./market.ts";
import type { BookTop, SimStats, VenueName, VenueStats } from "./types.ts";

export function collectStats(
  market: Market,
  counters: Record<VenueName, VenueCounters>,
  faults: Faults,
  startedMs: number,
): Omit<SimStats, "errors"> {
  const venue = (name: VenueName): VenueStats => {
    const c = counters[name];
    const lastTradeId: Record<string, number> = {};
    const bookTop: Record<string, BookTop> = {};
    for (const b of market.venueBooks(name)) {
      lastTradeId[b.symbol] = b.lastTradeId;
      const { pricePrecision: pp, qtyPrecision: qp } = b.listing;
      const bid = b.bids.size > 0;
      const ask = b.asks.size > 0;
      bookTop[b.symbol] = {
        bid: bid ? fixed(b.bids.bestPrice(), pp) : null,
        bidQty: bid ? fixed(b.bids.bestQty(), qp) : null,
        ask: ask ? fixed(b.asks.bestPrice(), pp) : null,
        askQty: ask ? fixed(b.asks.bestQty(), qp) : null,
        updateId: b.updateId,
      };
    }
    return {
      connectionsOpen: c.open,
      connectionsTotal: c.total,
      messagesSent: { ...c.sent },
      messagesReceived: c.received,
      messagesDropped: faults.dropped[name],
      lastTradeId,
      restRequests: c.rest,
      bookTop,
    };
  };
  return {
    uptimeMs: Date.now() - startedMs,
    marketEvents: market.eventsGenerated,
    kraken: venue("kraken"),
    coinbase: venue("coinbase"),
    binance: venue("binance"),
  };
}
