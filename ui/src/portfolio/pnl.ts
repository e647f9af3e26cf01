// Live marking of positions: unrealized = quantity × mark − costBasis, net = realized + unrealized − fees,
// exact (BigInt decimals), with the mark taken from the latest live trade on the position's exchange.
import { add, type Dec, dec, format, mul, sub } from "../lib/decimal.ts";

export interface PositionIn {
  symbol: string;
  quote: string;
  exchange: string;
  quantity: string;
  costBasis: string;
  markPrice: string | null;
  realizedPnl: string;
  unrealizedPnl: string | null;
  fees: string;
}

export interface MarkedPosition extends PositionIn {
  mark: string | null;
  unrealized: string | null;
  net: string | null;
  live: boolean;
}

export interface QuoteTotal {
  quote: string;
  realized: string;
  unrealized: string;
  fees: string;
  net: string;
  unmarked: number;
  /** Cash balance in this currency (from the API), and cash + marked value of the positions; null if unknown. */
  cash: string | null;
  equity: string | null;
}

export const markKey = (exchange: string, symbol: string) => `${exchange}|${symbol}`;

export function markPositions(
  positions: readonly PositionIn[],
  marks: ReadonlyMap<string, string>,
  cash: ReadonlyMap<string, string> = new Map(),
): { positions: MarkedPosition[]; totals: QuoteTotal[] } {
  const totals = new Map<string, { r: Dec; u: Dec; f: Dec; value: Dec; unmarked: number }>();
  for (const quote of cash.keys())
    totals.set(quote, { r: dec("0"), u: dec("0"), f: dec("0"), value: dec("0"), unmarked: 0 });
  const out = positions.map((p): MarkedPosition => {
    const liveMark = marks.get(markKey(p.exchange, p.symbol));
    const mark = liveMark ?? p.markPrice;
    const qty = dec(p.quantity);
    const unrealized = mark === null ? null : sub(mul(qty, dec(mark)), dec(p.costBasis));
    const t = totals.get(p.quote) ?? { r: dec("0"), u: dec("0"), f: dec("0"), value: dec("0"), unmarked: 0 };
    if (mark !== null) t.value = add(t.value, mul(qty, dec(mark)));
    t.r = add(t.r, dec(p.realizedPnl));
    t.f = add(t.f, dec(p.fees));
    if (unrealized) t.u = add(t.u, unrealized);
    else if (qty.m !== 0n) t.unmarked++;
    totals.set(p.quote, t);
    const net = unrealized ? sub(add(dec(p.realizedPnl), unrealized), dec(p.fees)) : null;
    return {
      ...p,
      mark,
      unrealized: unrealized ? format(unrealized) : null,
      net: net ? format(net) : null,
      live: liveMark !== undefined,
    };
  });
  return {
    positions: out,
    totals: [...totals].map(([quote, t]) => {
      const c = cash.get(quote);
      return {
        quote,
        realized: format(t.r),
        unrealized: format(t.u),
        fees: format(t.f),
        net: format(sub(add(t.r, t.u), t.f)),
        unmarked: t.unmarked,
        cash: c ?? null,
        equity: c !== undefined && t.unmarked === 0 ? format(add(dec(c), t.value)) : null,
      };
    }),
  };
}
