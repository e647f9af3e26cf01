// Binance public REST trade history for backfill: GET /api/v3/historicalTrades?symbol=&fromId=&limit=1000
// (weight 25, spent from the same per-minute budget as the depth snapshots: rest.ts). Rows
// {id, price, qty, quoteQty, time (ms, or µs with X-MBX-TIME-UNIT: MICROSECOND), isBuyerMaker, isBestMatch}; id is the trade stream's `t`.
// Docs: https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md#old-trade-lookup
import { FLAG_TAKER_BUY, FLAG_TAKER_SELL } from "../../schema/frame.ts";
import type { Instrument } from "../../schema/instruments.ts";
import { type HistoricTrade, historicTrade, type TradeHistory } from "../core/backfill.ts";
import type { FeedContext } from "../core/types.ts";
import { epochUnit } from "./depth.ts";
import type { BinanceRest } from "./rest.ts";

export class BinanceHistory implements TradeHistory {
  /** The weight budget is the real limit (BinanceRest.admit waits for it); this only spaces requests. */
  readonly requestsPerSecond = 10;

  constructor(private readonly rest: () => BinanceRest) {}

  async fetch(ctx: FeedContext, inst: Instrument, fromId: number): Promise<HistoricTrade[]> {
    const rows = JSON.parse(
      await this.rest().historicalTrades(inst.venues.binance!.symbol, fromId),
    ) as unknown;
    if (!Array.isArray(rows)) throw new Error(`binance historicalTrades ${inst.symbol}: not an array`);
    const out: HistoricTrade[] = [];
    for (const r of rows as Array<Record<string, unknown>>) {
      // isBuyerMaker: the resting order bought, so the taker sold.
      const side = r.isBuyerMaker === true ? FLAG_TAKER_SELL : r.isBuyerMaker === false ? FLAG_TAKER_BUY : 0;
      // µs with X-MBX-TIME-UNIT: MICROSECOND (rest.ts sends it), ms from a server that ignores the header.
      const time =
        typeof r.time === "number" && Number.isSafeInteger(r.time)
          ? BigInt(r.time) * (epochUnit(r.time) === "us" ? 1000n : 1_000_000n)
          : 0n;
      const t = historicTrade(ctx, inst, r.id, r.price, r.qty, side, time);
      if (t) out.push(t);
    }
    return out;
  }
}
