// Booking paper fills, inside the caller's transaction: close opposite FIFO lots (realizing PnL), open a
// lot with whatever remains, record the fill with its fee, move the cash (notional and fee as two ledger
// entries), and bring the order's filled quantity, average price and status up to date. All exact.
// Lots of one (portfolio, exchange, instrument) always share a sign: a fill first closes, then opens.
import { and, asc, eq, sql } from "drizzle-orm";
import { cashEntries, fills, orders, positionLots } from "../../schema/db/index.ts";
import type { Tx } from "../db/client.ts";
import { abs, add, cmp, type Dec, dec, feeOf, min, mul, neg, sign, str, sub, sum, ZERO } from "./exact.ts";
import type { Piece } from "./walk.ts";

export interface FillOrder {
  id: string;
  portfolioId: string;
  exchange: number;
  instrumentId: number;
  side: "buy" | "sell";
  /** Quote currency: the cash the fill moves. */
  currency: string;
}

export interface BookedFill {
  id: string;
  quantity: string;
  price: string;
  fee: string;
  realizedPnl: string;
}

export type Liquidity = "maker" | "taker";

async function closeLots(tx: Tx, order: FillOrder, quantity: Dec, price: Dec) {
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
  return { remaining, realized };
}

/** One fill of `quantity` at `price`: lots, the fill row, the cash entries. The order row is not touched. */
export async function bookFill(
  tx: Tx,
  order: FillOrder,
  quantity: Dec,
  price: Dec,
  liquidity: Liquidity,
  feeBps: string,
): Promise<BookedFill> {
  const { remaining, realized } = await closeLots(tx, order, quantity, price);
  const notional = mul(quantity, price);
  const fee = feeOf(notional, feeBps);
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
  const fillId = fill!.id;
  if (cmp(remaining, ZERO) > 0) {
    await tx.insert(positionLots).values({
      portfolioId: order.portfolioId,
      exchange: order.exchange,
      instrumentId: order.instrumentId,
      fillId,
      quantity: str(order.side === "buy" ? remaining : neg(remaining)),
      price: str(price),
    });
  }
  const cash = { portfolioId: order.portfolioId, currency: order.currency, fillId };
  const entries: (typeof cashEntries.$inferInsert)[] = [
    { ...cash, kind: "trade", amount: str(order.side === "buy" ? neg(notional) : notional) },
  ];
  if (fee.units !== 0n) entries.push({ ...cash, kind: "fee", amount: str(neg(fee)) });
  await tx.insert(cashEntries).values(entries);
  return {
    id: fillId,
    quantity: str(quantity),
    price: str(price),
    fee: str(fee),
    realizedPnl: str(realized),
  };
}

/**
 * Book the pieces of one execution and update the order: filled quantity, average price (the fills' VWAP,
 * rounded to 12 places), and status: "filled" when nothing is left, else `rest` ("open" for a limit order
 * that rests, "canceled" for a market order the visible depth could not finish).
 */
export async function execute(
  tx: Tx,
  order: FillOrder,
  pieces: readonly Piece[],
  liquidity: Liquidity,
  feeBps: string,
  rest: "open" | "canceled",
): Promise<BookedFill[]> {
  const booked: BookedFill[] = [];
  for (const p of pieces) booked.push(await bookFill(tx, order, p.quantity, p.price, liquidity, feeBps));
  const filled = str(sum(pieces.map((p) => p.quantity)));
  await tx
    .update(orders)
    .set({
      filledQuantity: sql`${orders.filledQuantity} + ${filled}::numeric`,
      averagePrice: sql`(SELECT trim_scale(round(sum(f.quantity * f.price) / sum(f.quantity), 12))
        FROM fills f WHERE f.order_id = ${order.id})`,
      status: sql`CASE WHEN ${orders.filledQuantity} + ${filled}::numeric >= ${orders.quantity} THEN 'filled'
        ELSE ${rest} END`,
      updatedAt: sql`now()`,
    })
    .where(eq(orders.id, order.id));
  return booked;
}
