// Paper orders. A market order walks the exchange's latest recent visible book (asks for a buy, bids for a
// sell; the stored depth, or the top alone: quotes.ts) and is immediate-or-cancel: it fills what the visible depth
// holds and the rest is canceled; with no quote at all it is refused with 409. A limit order takes the
// visible levels within its limit at once (taker, at their prices) and rests with the remainder, holding
// cash or position for it; the matcher fills it later (matcher.ts). Orders the portfolio cannot cover are
// refused with 422 unless margin is on (cover.ts).
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { orders } from "../../schema/db/index.ts";
import type { ExchangeName } from "../../schema/frame.ts";
import type { ApiConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { ConflictError, NotFoundError, UnprocessableError } from "../errors.ts";
import { exchangeName, type InstrumentCatalog } from "../market/catalog.ts";
import { cursorTime, decodeCursor, encodeCursor } from "../market/cursor.ts";
import { isoTime } from "../market/sql.ts";
import type { ApiMetrics } from "../metrics.ts";
import { lockPortfolio } from "./cash.ts";
import { checkCover } from "./cover.ts";
import { dec } from "./exact.ts";
import { execute } from "./ledger.ts";
import { takerSide, visibleBook } from "./quotes.ts";
import type { PortfolioService } from "./service.ts";
import { walkBook } from "./walk.ts";

export interface PlaceOrder {
  symbol: string;
  exchange: ExchangeName;
  side: "buy" | "sell";
  type: "market" | "limit";
  quantity: string;
  limitPrice?: string;
  clientOrderId?: string;
}

export interface OrderFilter {
  status?: "open" | "filled" | "canceled";
  symbol?: string;
  side?: "buy" | "sell";
  order?: "asc" | "desc";
  limit: number;
  cursor?: string;
}

const columns = {
  id: orders.id,
  portfolioId: orders.portfolioId,
  exchange: orders.exchange,
  instrumentId: orders.instrumentId,
  currency: orders.currency,
  side: orders.side,
  type: orders.type,
  quantity: orders.quantity,
  limitPrice: orders.limitPrice,
  status: orders.status,
  filledQuantity: orders.filledQuantity,
  averagePrice: orders.averagePrice,
  clientOrderId: orders.clientOrderId,
  createdAt: isoTime(sql`${orders.createdAt}`).mapWith(String),
  updatedAt: isoTime(sql`${orders.updatedAt}`).mapWith(String),
};

const selectOrders = (db: Database) => db.select(columns).from(orders);
type OrderRow = Awaited<ReturnType<typeof selectOrders>>[number];

/** Reject more decimals than the instrument's frames carry (the quantity could never trade exactly). */
function checkScale(value: string, decimals: number, field: string, symbol: string): void {
  const d = dec(value);
  if (d.units <= 0n) throw new UnprocessableError(`${field} must be greater than zero`);
  const frac = value.split(".")[1]?.replace(/0+$/, "") ?? "";
  if (frac.length > decimals)
    throw new UnprocessableError(
      `${field} has ${frac.length} decimal places; ${symbol} allows at most ${decimals}`,
    );
}

export class OrderService {
  constructor(
    private readonly db: Database,
    private readonly catalog: InstrumentCatalog,
    private readonly portfolios: PortfolioService,
    private readonly config: Readonly<ApiConfig>,
    private readonly metrics: ApiMetrics,
  ) {}

  private view = ({ instrumentId, exchange, ...rest }: OrderRow) => ({
    ...rest,
    symbol: this.catalog.byId(instrumentId)?.symbol ?? String(instrumentId),
    exchange: exchangeName(exchange),
  });

  async place(userId: string, portfolioId: string, input: PlaceOrder) {
    await this.portfolios.requireOwned(userId, portfolioId); // 404 before any 422 about the order
    // An unknown symbol in an order body is a field error (422), not a missing resource (404).
    const instrument = this.catalog.bySymbol(input.symbol);
    if (!instrument)
      throw new UnprocessableError(`unknown instrument ${input.symbol}; see GET /api/market/instruments`);
    const exchange = this.catalog.requireListing(instrument, input.exchange);
    checkScale(input.quantity, instrument.sizeDecimals, "quantity", instrument.symbol);
    if (input.type === "limit") {
      if (input.limitPrice === undefined) throw new UnprocessableError("a limit order needs limitPrice");
      checkScale(input.limitPrice, instrument.priceDecimals, "limitPrice", instrument.symbol);
    } else if (input.limitPrice !== undefined)
      throw new UnprocessableError("a market order takes no limitPrice");

    let orderId: string;
    try {
      orderId = await this.db.transaction(async (tx) => {
        const { margin } = await lockPortfolio(tx, userId, portfolioId);
        const book = await visibleBook(tx, exchange, instrument.id, this.config.quoteMaxAgeMs);
        const levels = book ? takerSide(book, input.side) : [];
        const quantity = dec(input.quantity);
        const limit = input.limitPrice === undefined ? undefined : dec(input.limitPrice);
        const walk = walkBook(levels, input.side, quantity, limit);
        if (input.type === "market" && walk.filled.units === 0n)
          throw new ConflictError(
            `no ${input.side === "buy" ? "ask" : "bid"} for ${instrument.symbol} on ${input.exchange} in the last ` +
              `${this.config.quoteMaxAgeMs / 1000}s; a market order needs a live quote (is the feed running?)`,
            "no_quote",
          );
        const currency = instrument.quote;
        if (!margin)
          await checkCover(tx, {
            portfolioId,
            side: input.side,
            quantity,
            limit,
            walk,
            levels,
            exchange,
            exchangeName: input.exchange,
            instrumentId: instrument.id,
            symbol: instrument.symbol,
            currency,
            feeBps: this.config.feeBps,
          });
        const [order] = await tx
          .insert(orders)
          .values({
            portfolioId,
            exchange,
            instrumentId: instrument.id,
            currency,
            side: input.side,
            type: input.type,
            quantity: input.quantity,
            limitPrice: input.limitPrice ?? null,
            status: "open",
            clientOrderId: input.clientOrderId ?? null,
            // The remainder of a limit order rests against the book it saw (none: it has not rested yet).
            restedAt: input.type === "limit" && book ? sql`${book.time}::timestamptz` : null,
          })
          .returning({ id: orders.id });
        const fillOrder = {
          id: order!.id,
          portfolioId,
          exchange,
          instrumentId: instrument.id,
          side: input.side,
          currency,
        };
        if (walk.pieces.length > 0) {
          const rest = input.type === "market" ? "canceled" : "open";
          await execute(tx, fillOrder, walk.pieces, "taker", this.config.feeBps, rest);
          this.metrics.fills.inc({ liquidity: "taker" }, walk.pieces.length);
        }
        return order!.id;
      });
    } catch (error) {
      this.metrics.orders.inc({ type: input.type, result: "refused" });
      if (isUniqueViolation(error))
        throw new ConflictError(
          `clientOrderId ${JSON.stringify(input.clientOrderId)} is already used in this portfolio`,
        );
      throw error;
    }
    this.metrics.orders.inc({ type: input.type, result: "accepted" });
    return this.get(userId, portfolioId, orderId);
  }

  async get(userId: string, portfolioId: string, orderId: string) {
    await this.portfolios.requireOwned(userId, portfolioId);
    const [row] = await selectOrders(this.db).where(
      and(eq(orders.id, orderId), eq(orders.portfolioId, portfolioId)),
    );
    if (!row) throw new NotFoundError("order not found");
    return this.view(row);
  }

  async cancel(userId: string, portfolioId: string, orderId: string) {
    await this.portfolios.requireOwned(userId, portfolioId);
    const [row] = await this.db
      .update(orders)
      .set({ status: "canceled", updatedAt: sql`now()` })
      .where(and(eq(orders.id, orderId), eq(orders.portfolioId, portfolioId), eq(orders.status, "open")))
      .returning(columns);
    if (row) return this.view(row);
    const existing = await this.get(userId, portfolioId, orderId); // 404 if it is not there
    throw new ConflictError(`order is ${existing.status}; only open orders can be canceled`, "not_open");
  }

  async list(userId: string, portfolioId: string, f: OrderFilter) {
    await this.portfolios.requireOwned(userId, portfolioId);
    const descending = (f.order ?? "desc") === "desc";
    const where: SQL[] = [eq(orders.portfolioId, portfolioId)];
    if (f.status) where.push(eq(orders.status, f.status));
    if (f.side) where.push(eq(orders.side, f.side));
    if (f.symbol) where.push(eq(orders.instrumentId, this.catalog.require(f.symbol).id));
    if (f.cursor) {
      const [t, id] = decodeCursor(f.cursor, "su");
      const time = cursorTime(t);
      where.push(
        descending
          ? sql`(${orders.createdAt}, ${orders.id}) < (${time}::timestamptz, ${id}::uuid)`
          : sql`(${orders.createdAt}, ${orders.id}) > (${time}::timestamptz, ${id}::uuid)`,
      );
    }
    const rows = await selectOrders(this.db)
      .where(and(...where))
      .orderBy(...(descending ? [desc(orders.createdAt), desc(orders.id)] : [orders.createdAt, orders.id]))
      .limit(f.limit + 1);
    const more = rows.length > f.limit;
    const page = more ? rows.slice(0, f.limit) : rows;
    const last = page[page.length - 1];
    return {
      items: page.map(this.view),
      nextCursor: more && last ? encodeCursor([last.createdAt, last.id]) : null,
    };
  }
}
