// Kraken public REST trade history for backfill: GET /0/public/Trades?pair=XBTUSD&since=<ns>&count=1000.
// Docs: https://docs.kraken.com/api/docs/rest-api/get-recent-trades . Rows are [price, volume, time (float
// seconds), "b"/"s", "m"/"l", misc, trade_id]; trade_id is the v2 WebSocket trade id. `since` is an exclusive
// ns cursor, so a page is asked from a second before the last trade we had. Public calls: about 1 per second.
import { FLAG_TAKER_BUY, FLAG_TAKER_SELL } from "../../schema/frame.ts";
import type { Instrument } from "../../schema/instruments.ts";
import { getJson, type HistoricTrade, historicTrade, type TradeHistory } from "../core/backfill.ts";
import type { FeedContext } from "../core/types.ts";

/** Kraken's REST pair name for a v2 symbol: "BTC/USD" → "XBTUSD" (BTC is XBT there). */
export const restPair = (wsSymbol: string): string => wsSymbol.replace("/", "").replace(/^BTC/, "XBT");

export class KrakenHistory implements TradeHistory {
  readonly requestsPerSecond = 1;

  constructor(private readonly restUrl: string) {}

  async fetch(ctx: FeedContext, inst: Instrument, fromId: number, sinceMs: number): Promise<HistoricTrade[]> {
    const pair = restPair(inst.venues.kraken!.symbol);
    const since = sinceMs > 1000 ? `&since=${Math.floor(sinceMs) - 1000}000000` : "";
    const body = (await getJson(`${this.restUrl}/0/public/Trades?pair=${pair}${since}&count=1000`)) as {
      error?: unknown[];
      result?: Record<string, unknown>;
    };
    if (!Array.isArray(body.error) || body.error.length > 0 || !body.result)
      throw new Error(`kraken Trades ${pair}: ${JSON.stringify(body.error ?? body).slice(0, 200)}`);
    // The result is keyed by Kraken's own pair name ("XXBTZUSD"), beside the cursor `last`.
    const rows = Object.entries(body.result).find(([key]) => key !== "last")?.[1];
    if (!Array.isArray(rows)) return [];
    const out: HistoricTrade[] = [];
    for (const row of rows as unknown[][]) {
      const side = row[3] === "b" ? FLAG_TAKER_BUY : row[3] === "s" ? FLAG_TAKER_SELL : 0;
      // The time is a float: microseconds are what it carries exactly.
      const timeNs = BigInt(Math.round(Number(row[2]) * 1e6)) * 1000n;
      const t = historicTrade(ctx, inst, row[6], row[0], row[1], side, timeNs);
      if (t && t.id >= fromId) out.push(t);
    }
    return out.sort((a, b) => a.id - b.id);
  }
}
