// Cross-exchange best bid/offer from each exchange's live BBO, exact: the highest bid and lowest ask across
// exchanges and their spread (negative = crossed across venues).
import { cmp, dec, format, sub } from "../lib/decimal.ts";
import type { BboMessage } from "../lib/messages.ts";

export interface CrossBbo {
  bid: { exchange: string; price: string } | null;
  ask: { exchange: string; price: string } | null;
  spread: string | null;
  crossed: boolean;
}

export function crossBbo(bbos: readonly BboMessage[]): CrossBbo {
  let bid: CrossBbo["bid"] = null;
  let ask: CrossBbo["ask"] = null;
  for (const b of bbos) {
    if (b.bidPrice && b.bidSize !== "0" && (!bid || cmp(dec(b.bidPrice), dec(bid.price)) > 0))
      bid = { exchange: b.exchange, price: b.bidPrice };
    if (b.askPrice && b.askSize !== "0" && (!ask || cmp(dec(b.askPrice), dec(ask.price)) < 0))
      ask = { exchange: b.exchange, price: b.askPrice };
  }
  const spread = bid && ask ? sub(dec(ask.price), dec(bid.price)) : null;
  return { bid, ask, spread: spread ? format(spread) : null, crossed: spread ? spread.m < 0n : false };
}
