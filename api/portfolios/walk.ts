// Walking a visible book: a taker takes each level in turn (best first) until its quantity is done, the
// levels run out, or the next level is worse than its limit. Pure and exact, so it is tested on its own.
import { add, cmp, type Dec, min, mul, sub, ZERO } from "./exact.ts";

export interface Level {
  price: Dec;
  size: Dec;
}

export interface Piece {
  price: Dec;
  quantity: Dec;
}

export interface Walk {
  pieces: Piece[];
  /** Total quantity the visible levels give (<= the wanted quantity). */
  filled: Dec;
  /** Sum of price x quantity over the pieces. */
  notional: Dec;
}

/** Whether a taker on `side` with this limit may trade at `price` (a buy pays at most, a sell gets at least). */
export const withinLimit = (side: "buy" | "sell", price: Dec, limit: Dec | undefined): boolean =>
  limit === undefined || (side === "buy" ? cmp(price, limit) <= 0 : cmp(price, limit) >= 0);

/**
 * `levels` are the side a taker trades against (asks for a buy, bids for a sell), best first. Levels
 * with a non-positive size are skipped.
 */
export function walkBook(levels: readonly Level[], side: "buy" | "sell", quantity: Dec, limit?: Dec): Walk {
  const pieces: Piece[] = [];
  let left = quantity;
  let notional = ZERO;
  for (const level of levels) {
    if (left.units <= 0n) break;
    if (!withinLimit(side, level.price, limit)) break;
    if (level.size.units <= 0n) continue;
    const take = min(level.size, left);
    pieces.push({ price: level.price, quantity: take });
    notional = add(notional, mul(take, level.price));
    left = sub(left, take);
  }
  return { pieces, filled: sub(quantity, left), notional };
}
