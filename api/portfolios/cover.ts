// Whether a portfolio can cover an order (skipped when margin is on). A buy needs, in its quote currency,
// what it pays now (the visible levels it takes) plus what the rest could cost (at its limit for a limit
// order, which is what stays reserved while it rests; at the worst visible level it reached for a market
// order), fees included. A sell needs the whole quantity in the position on that exchange, less what open
// sell orders already hold. Anything else is a 422 that says what was needed and what is available.
import type { Tx } from "../db/client.ts";
import { availableCash, availablePosition, InsufficientError } from "./cash.ts";
import { add, cmp, type Dec, feeOf, mul, str, sub } from "./exact.ts";
import type { Level, Walk } from "./walk.ts";

export interface CoverRequest {
  portfolioId: string;
  side: "buy" | "sell";
  quantity: Dec;
  limit: Dec | undefined;
  walk: Walk;
  /** The levels walked (taker side), best first. */
  levels: readonly Level[];
  exchange: number;
  exchangeName: string;
  instrumentId: number;
  symbol: string;
  currency: string;
  feeBps: string;
}

/** Cash a buy needs, fees included (exact). */
export function buyNeeds(r: Pick<CoverRequest, "quantity" | "limit" | "walk" | "levels" | "feeBps">): Dec {
  const rest = sub(r.quantity, r.walk.filled);
  const last = r.walk.pieces[r.walk.pieces.length - 1]?.price ?? r.levels[0]?.price;
  const restPrice = r.limit ?? last;
  const notional = restPrice === undefined ? r.walk.notional : add(r.walk.notional, mul(rest, restPrice));
  return add(notional, feeOf(notional, r.feeBps));
}

export async function checkCover(tx: Tx, r: CoverRequest): Promise<void> {
  if (r.side === "buy") {
    const needs = buyNeeds(r);
    const available = await availableCash(tx, r.portfolioId, r.currency, r.feeBps);
    if (cmp(needs, available) > 0)
      throw new InsufficientError(
        "insufficient_funds",
        `buying ${str(r.quantity)} ${r.symbol} on ${r.exchangeName} needs ${str(needs)} ${r.currency} ` +
          `including fees; ${str(available)} ${r.currency} is available`,
      );
    return;
  }
  const available = await availablePosition(tx, r.portfolioId, r.exchange, r.instrumentId);
  if (cmp(r.quantity, available) > 0)
    throw new InsufficientError(
      "insufficient_position",
      `selling ${str(r.quantity)} ${r.symbol} on ${r.exchangeName} needs that much held there; ` +
        `${str(available)} is available (the position less open sell orders). Turn margin on to sell short`,
    );
}
