// Portfolio, order, fill and position schemas.
import { t } from "elysia";
import { EXCHANGES } from "../../schema/frame.ts";
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
import type { CashInputs } from "./cash-model.ts";
import { OneOf } from "./one-of.ts";

const Exchange = OneOf(EXCHANGES);
const Side = Enum(["buy", "sell"], "side");
const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);
// Postgres text cannot hold NUL, and control characters in a name only ever hide something: the patterns
// refuse them (so the OpenAPI document states the rule), leaving tab, CR and LF to descriptions.
const Name = t.String({
  minLength: 1,
  maxLength: 100,
  pattern: "^ *[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$",
  error: "name must be 1 to 100 characters, not blank, with no control characters",
});
const TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$";
const Description = t.String({
  maxLength: 1000,
  pattern: TEXT,
  error: "description must be at most 1000 characters, with no control characters but tab and newline",
});
const ID = "4f9b3c2e-8d1a-4c6b-9e2f-1a2b3c4d5e6f";
const OID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const NOW = "2025-01-31T12:00:00.123456Z";

const portfolio = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.String(),
  margin: t.Boolean({ description: "true: orders are not checked against cash or position" }),
  createdAt: t.String(),
  updatedAt: t.String(),
});
const portfolioExample = {
  id: ID,
  name: "main",
  description: "",
  margin: false,
  createdAt: NOW,
  updatedAt: NOW,
};
const Margin = t.Boolean({ error: "margin must be true or false" });

const order = t.Object({
  id: t.String(),
  portfolioId: t.String(),
  symbol: t.String(),
  exchange: Exchange,
  currency: t.String({ description: "quote currency: the cash its fills move" }),
  side: t.String(),
  type: t.String(),
  quantity: Decimal("ordered quantity", "0.5"),
  limitPrice: Nullable(t.String()),
  status: OneOf(
    ["open", "filled", "canceled"],
    "open: resting (filledQuantity may be > 0); filled: all of it; canceled: by you, or the part of a market order the visible depth could not fill",
  ),
  filledQuantity: t.String(),
  averagePrice: Nullable(t.String({ description: "fills' volume-weighted price, rounded to 12 places" })),
  clientOrderId: Nullable(t.String()),
  createdAt: t.String(),
  updatedAt: t.String(),
});
const orderExample = {
  id: OID,
  portfolioId: ID,
  symbol: "BTC-USD",
  exchange: "coinbase",
  currency: "USD",
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
  cash: t.String({ description: "cash balance in this currency" }),
  equity: t.String({
    description: "cash + the marked value of the positions (unmarked positions add nothing)",
  }),
});

export const PortfolioModel = {
  params: t.Object({ portfolioId: Uuid("portfolioId") }),
  orderParams: t.Object({ portfolioId: Uuid("portfolioId"), orderId: Uuid("orderId") }),
  listQuery: t.Object({
    sort: t.Optional(Enum(["createdAt", "name"], "sort", "createdAt")),
    order: t.Optional(Enum(["asc", "desc"], "order", "asc")),
    limit: t.Optional(Limit(200, 100)),
  }),
  update: t.Object(
    { name: t.Optional(Name), description: t.Optional(Description), margin: t.Optional(Margin) },
    {
      description: "fields to change; an empty body changes nothing and answers the portfolio as it is",
      examples: [{ name: "swing" }, { margin: true }],
    },
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
          liquidity: OneOf(["maker", "taker"]),
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
              cash: "67874.95",
              equity: "100024.95",
            },
          ],
          positions: [positionExample],
        },
      ],
    },
  ),
};

/** POST /portfolios body: its opening cash takes the known quote currencies (cash-model.ts). */
export const createBody = (cash: CashInputs) =>
  t.Object(
    {
      name: Name,
      description: t.Optional(Description),
      margin: t.Optional(Margin),
      cash: t.Optional(
        t.Array(cash.amount, {
          maxItems: 20,
          description:
            "opening balances; omitted: 100000 in every quote currency the instruments use; [] for none",
          error: "cash must be a list of at most 20 { currency, amount } with amount a decimal string",
        }),
      ),
    },
    {
      examples: [
        { name: "main" },
        { name: "usd only", cash: [{ currency: "USD", amount: "25000" }] },
        { name: "hedge", margin: true },
      ],
    },
  );
