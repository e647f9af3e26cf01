// Booking a paper fill: inside the caller's transaction, close opposite FIFO lots (realizing PnL), open a
// lot with whatever remains, record the fill with its fee, and mark the order filled. All in exact decimals.
// Lots of one (portfolio, exchange, instrument) always share a sign: a fill first closes, then opens.
import { and, asc, eq, sql } from "drizzle-orm";
import { fills, orders, positionLots } from "../../schema/db/index.ts";
import type { Tx } from "../db/client.ts";
import { abs, add, cmp, type Dec, dec, min, mul, neg, shift, sign, str, sub, ZERO } from "./exact.ts";

export interface FillOrder {
  id: string;
  portfolioId: string;
  exchange: number;
  instrumentId: number;
  side: "buy" | "sell";
}

export interface BookedFill {
  id: string;
  quantity: string;
  price: string;
  fee: string;
  realizedPnl: string;
}

export async function bookFill(
  tx: Tx,
  order: FillOrder,
  quantityText: string,
  priceText: string,
  liquidity: "maker" | "taker",
  feeBps: string,
): Promise<BookedFill> {
  const quantity = dec(quantityText);
  const price = dec(priceText);
  const direction = order.side === "buy" ? 1 : -1;
  const key = and(
    eq(positionLots.portfolioId, order.portfolioId),
    eq(positionLots.exchange, order.exchange),
    eq(positionLots.instrumentId, order.instrumentId),
  );
  const lots = await tx.select().from(positionLots).where(key).orderBy(asc(positionLots.id)).for("update");

  let remaining = quantity;
  let realized = ZERO;
  for (const lot of lots) {
    if (remaining.units === 0n) break;
    const lotQty = dec(lot.quantity);
    if (sign(lotQty) === direction) break; // same side: nothing to close (lots share a sign)
    const take = min(abs(lotQty), remaining);
    // A long lot closed by a sell gains (price - entry); a short lot closed by a buy gains (entry - price).
    const perUnit = sign(lotQty) > 0 ? sub(price, dec(lot.price)) : sub(dec(lot.price), price);
    realized = add(realized, mul(take, perUnit));
    const left = sign(lotQty) > 0 ? sub(lotQty, take) : add(lotQty, take);
    if (left.units === 0n) await tx.delete(positionLots).where(eq(positionLots.id, lot.id));
    else
      await tx
        .update(positionLots)
        .set({ quantity: str(left) })
        .where(eq(positionLots.id, lot.id));
    remaining = sub(remaining, take);
  }

  const fee = shift(mul(mul(quantity, price), dec(feeBps)), 4); // bps = 1/10^4 of notional
  const [fill] = await tx
    .insert(fills)
    .values({
      orderId: order.id,
      portfolioId: order.portfolioId,
      exchange: order.exchange,
      instrumentId: order.instrumentId,
      side: order.side,
      quantity: str(quantity),
      price: str(price),
      fee: str(fee),
      realizedPnl: str(realized),
      liquidity,
    })
    .returning({ id: fills.id });

  if (cmp(remaining, ZERO) > 0) {
    const opened: Dec = direction > 0 ? remaining : neg(remaining);
    await tx.insert(positionLots).values({
      portfolioId: order.portfolioId,
      exchange: order.exchange,
      instrumentId: order.instrumentId,
      fillId: fill!.id,
      quantity: str(opened),
      price: str(price),
    });
  }

  await tx
    .update(orders)
    .set({ status: "filled", filledQuantity: str(quantity), averagePrice: str(price), updatedAt: sql`now()` })
    .where(eq(orders.id, order.id));
  return {
    id: fill!.id,
    quantity: str(quantity),
    price: str(price),
    fee: str(fee),
    realizedPnl: str(realized),
  };
}
