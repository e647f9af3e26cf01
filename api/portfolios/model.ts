// Portfolio, order, fill and position schemas.
import { t } from "elysia";
import {
  Cursor,
  Decimal,
  Enum,
  ExchangeParam,
  Limit,
  Order,
  PositiveDecimal,
  Symbol_,
  Uuid,
} from "../model.ts";

const Exchange = t.UnionEnum(["kraken", "coinbase", "binance"]);
const Side = Enum(["buy", "sell"], "side");
const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);
const Name = t.String({
  minLength: 1,
  maxLength: 100,
  pattern: "\\S",
  error: "name must be 1 to 100 characters, not blank",
});
const Description = t.String({ maxLength: 1000, error: "description must be at most 1000 characters" });
const ID = "4f9b3c2e-8d1a-4c6b-9e2f-1a2b3c4d5e6f";
const OID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const NOW = "2025-01-31T12:00:00.123456Z";

const portfolio = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.String(),
  createdAt: t.String(),
  updatedAt: t.String(),
});
const portfolioExample = { id: ID, name: "main", description: "", createdAt: NOW, updatedAt: NOW };

const order = t.Object({
  id: t.String(),
  portfolioId: t.String(),
  symbol: t.String(),
  exchange: Exchange,
  side: t.String(),
  type: t.String(),
  quantity: Decimal("ordered quantity", "0.5"),
  limitPrice: Nullable(t.String()),
  status: t.UnionEnum(["open", "filled", "canceled"]),
  filledQuantity: t.String(),
  averagePrice: Nullable(t.String()),
  clientOrderId: Nullable(t.String()),
  createdAt: t.String(),
  updatedAt: t.String(),
});
const orderExample = {
  id: OID,
  portfolioId: ID,
  symbol: "BTC-USD",
  exchange: "coinbase",
  side: "buy",
  type: "market",
  quantity: "0.5",
  limitPrice: null,
  status: "filled",
  filledQuantity: "0.5",
  averagePrice: "64250.1",
  clientOrderId: null,
  createdAt: NOW,
  updatedAt: NOW,
};

const position = t.Object({
  symbol: t.String(),
  quote: t.String(),
  exchange: Exchange,
  quantity: t.String({ description: "signed: > 0 long, < 0 short, 0 closed" }),
  costBasis: t.String({ description: "sum of open FIFO lots' quantity x entry price" }),
  averageEntryPrice: Nullable(t.String({ description: "costBasis / quantity, rounded to 12 places" })),
  markPrice: Nullable(t.String({ description: "latest trade on this exchange" })),
  markedAt: Nullable(t.String()),
  realizedPnl: t.String(),
  unrealizedPnl: Nullable(t.String({ description: "quantity x markPrice - costBasis; null when unmarked" })),
  fees: t.String(),
});
const positionExample = {
  symbol: "BTC-USD",
  quote: "USD",
  exchange: "coinbase",
  quantity: "0.5",
  costBasis: "32125.05",
  averageEntryPrice: "64250.1",
  markPrice: "64300",
  markedAt: NOW,
  realizedPnl: "0",
  unrealizedPnl: "24.95",
  fees: "0",
};
const totals = t.Object({
  quote: t.String(),
  realizedPnl: t.String(),
  unrealizedPnl: t.String(),
  fees: t.String(),
  netPnl: t.String({ description: "realized + unrealized - fees" }),
  unmarkedPositions: t.Integer(),
});

export const PortfolioModel = {
  params: t.Object({ portfolioId: Uuid("portfolioId") }),
  orderParams: t.Object({ portfolioId: Uuid("portfolioId"), orderId: Uuid("orderId") }),
  listQuery: t.Object({
    sort: t.Optional(Enum(["createdAt", "name"], "sort", "createdAt")),
    order: t.Optional(Enum(["asc", "desc"], "order", "asc")),
    limit: t.Optional(Limit(200, 100)),
  }),
  create: t.Object({ name: Name, description: t.Optional(Description) }, { examples: [{ name: "main" }] }),
  update: t.Object(
    { name: t.Optional(Name), description: t.Optional(Description) },
    { examples: [{ name: "swing" }] },
  ),
  portfolio: t.Object(portfolio.properties, { examples: [portfolioExample] }),
  portfolios: t.Array(portfolio, { examples: [[portfolioExample]] }),

  placeOrder: t.Object(
    {
      symbol: Symbol_,
      exchange: ExchangeParam,
      side: Side,
      type: Enum(["market", "limit"], "type"),
      quantity: PositiveDecimal("quantity", "0.5"),
      limitPrice: t.Optional(PositiveDecimal("limitPrice", "64000")),
      clientOrderId: t.Optional(
        t.String({
          pattern: "^[A-Za-z0-9_.:-]{1,64}$",
          error: "clientOrderId must be 1-64 of A-Z a-z 0-9 _ . : -",
        }),
      ),
    },
    {
      examples: [
        { symbol: "BTC-USD", exchange: "coinbase", side: "buy", type: "market", quantity: "0.5" },
        {
          symbol: "ETH-USD",
          exchange: "kraken",
          side: "sell",
          type: "limit",
          quantity: "2",
          limitPrice: "3500.25",
        },
      ],
    },
  ),
  orderQuery: t.Object({
    status: t.Optional(Enum(["open", "filled", "canceled"], "status")),
    symbol: t.Optional(Symbol_),
    side: t.Optional(Side),
    order: t.Optional(Order),
    limit: t.Optional(Limit(500, 100)),
    cursor: t.Optional(Cursor),
  }),
  order: t.Object(order.properties, { examples: [orderExample] }),
  orders: t.Object(
    { items: t.Array(order), nextCursor: Nullable(t.String()) },
    { examples: [{ items: [orderExample], nextCursor: null }] },
  ),
  fillQuery: t.Object({
    orderId: t.Optional(Uuid("orderId")),
    symbol: t.Optional(Symbol_),
    limit: t.Optional(Limit(500, 100)),
    cursor: t.Optional(Cursor),
  }),
  fills: t.Object(
    {
      items: t.Array(
        t.Object({
          id: t.String(),
          orderId: t.String(),
          symbol: t.String(),
          exchange: Exchange,
          side: t.String(),
          quantity: t.String(),
          price: t.String(),
          fee: t.String(),
          realizedPnl: t.String(),
          liquidity: t.UnionEnum(["maker", "taker"]),
          time: t.String(),
        }),
      ),
      nextCursor: Nullable(t.String()),
    },
    {
      examples: [
        {
          items: [
            {
              id: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
              orderId: OID,
              symbol: "BTC-USD",
              exchange: "coinbase",
              side: "buy",
              quantity: "0.5",
              price: "64250.1",
              fee: "0",
              realizedPnl: "0",
              liquidity: "taker",
              time: NOW,
            },
          ],
          nextCursor: null,
        },
      ],
    },
  ),
  positions: t.Array(position, { examples: [[positionExample]] }),
  pnl: t.Object(
    { portfolioId: t.String(), totals: t.Array(totals), positions: t.Array(position) },
    {
      examples: [
        {
          portfolioId: ID,
          totals: [
            {
              quote: "USD",
              realizedPnl: "0",
              unrealizedPnl: "24.95",
              fees: "0",
              netPnl: "24.95",
              unmarkedPositions: 0,
            },
          ],
          positions: [positionExample],
        },
      ],
    },
  ),
};
