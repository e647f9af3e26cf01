// Coinbase Advanced Trade public market trades for backfill:
// GET /api/v3/brokerage/market/products/{product_id}/ticker?limit=1000&start=&end= (UNIX seconds, no auth).
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/rest-api (Get Public Market Trades).
// Trades come newest first and only recent ones are served, so a page walks back (`end`) from now to the
// trade before the gap; trade_id matches market_trades, and `side` has the same meaning (COINBASE_TRADE_SIDE).

import { writeRfc3339Ns } from "../../schema/clock.ts";
import { FLAG_TAKER_BUY, FLAG_TAKER_SELL } from "../../schema/frame.ts";
import type { Instrument } from "../../schema/instruments.ts";
import { getJson, type HistoricTrade, historicTrade, type TradeHistory } from "../core/backfill.ts";
import type { FeedContext } from "../core/types.ts";
import type { TradeSideMeaning } from "./config.ts";

const LIMIT = 1000;
const scratch = new DataView(new ArrayBuffer(8));
const parseRfc3339Ns = (text: string): bigint | undefined =>
  writeRfc3339Ns(scratch, 0, text, 0, text.length) ? scratch.getBigInt64(0, true) : undefined;
const MAX_WALK = 10;

export class CoinbaseHistory implements TradeHistory {
  constructor(
    private readonly restUrl: string,
    private readonly sideMeaning: TradeSideMeaning,
    readonly requestsPerSecond: number,
  ) {}

  async fetch(ctx: FeedContext, inst: Instrument, fromId: number, sinceMs: number): Promise<HistoricTrade[]> {
    const product = encodeURIComponent(inst.venues.coinbase!.symbol);
    const start = sinceMs > 1000 ? `&start=${Math.floor(sinceMs / 1000) - 1}` : "";
    const byId = new Map<number, HistoricTrade>();
    let end = "";
    for (let walk = 0; walk < MAX_WALK; walk++) {
      const url = `${this.restUrl}/api/v3/brokerage/market/products/${product}/ticker?limit=${LIMIT}${start}${end}`;
      const body = (await getJson(url)) as { trades?: unknown };
      if (!Array.isArray(body.trades)) throw new Error(`coinbase ticker ${product}: no trades array`);
      let oldest: HistoricTrade | undefined;
      for (const row of body.trades as Array<Record<string, unknown>>) {
        const buy = row.side === "BUY";
        const taker = this.sideMeaning === "taker" ? buy : !buy;
        const side =
          row.side === "BUY" || row.side === "SELL" ? (taker ? FLAG_TAKER_BUY : FLAG_TAKER_SELL) : 0;
        const timeNs = typeof row.time === "string" ? parseRfc3339Ns(row.time) : undefined;
        const t =
          timeNs === undefined
            ? undefined
            : historicTrade(ctx, inst, row.trade_id, row.price, row.size, side, timeNs);
        if (!t) continue;
        if (t.id >= fromId) byId.set(t.id, t);
        if (!oldest || t.id < oldest.id) oldest = t;
      }
      // A full page that has not reached back to the gap: ask for the page before it.
      if (body.trades.length < LIMIT || !oldest || oldest.id <= fromId) break;
      end = `&end=${Number(oldest.timeNs / 1_000_000_000n) + 1}`;
    }
    return [...byId.values()].sort((a, b) => a.id - b.id);
  }
}
