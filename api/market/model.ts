// Market-data request and response schemas: they validate input, document the OpenAPI spec and type the
// Eden client. Prices and sizes are decimal strings (exact), times RFC 3339 UTC with microseconds.
import { t } from "elysia";
import { EXCHANGES, STATUS_NAMES } from "../../schema/frame.ts";
import { Cursor, Decimal, Enum, ExchangeParam, Limit, Order, Symbol_, Time } from "../model.ts";
import { FEED_STATES } from "./feeds.ts";

const Exchange = t.UnionEnum(EXCHANGES);
const TimeOut = t.String({
  description: "RFC 3339 UTC, microseconds",
  examples: ["2025-01-31T12:00:00.123456Z"],
});
const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);
const EVENTS = Object.values(STATUS_NAMES) as [string, ...string[]];

export const MarketModel = {
  instruments: t.Array(
    t.Object({
      id: t.Integer(),
      symbol: t.String(),
      base: t.String(),
      quote: t.String(),
      priceDecimals: t.Integer(),
      sizeDecimals: t.Integer(),
      exchanges: t.Array(Exchange),
      venues: t.Record(
        t.String(),
        t.Object({ symbol: t.String(), pricePrecision: t.Integer(), qtyPrecision: t.Integer() }),
      ),
    }),
    {
      examples: [
        [
          {
            id: 1,
            symbol: "BTC-USD",
            base: "BTC",
            quote: "USD",
            priceDecimals: 2,
            sizeDecimals: 8,
            exchanges: ["kraken", "coinbase"],
            venues: { coinbase: { symbol: "BTC-USD", pricePrecision: 2, qtyPrecision: 8 } },
          },
        ],
      ],
    },
  ),

  tradesQuery: t.Object({
    symbol: Symbol_,
    exchange: t.Optional(ExchangeParam),
    from: t.Optional(Time("from")),
    to: t.Optional(Time("to")),
    limit: t.Optional(Limit(1000, 100)),
    order: t.Optional(Order),
    cursor: t.Optional(Cursor),
  }),
  trades: t.Object(
    {
      items: t.Array(
        t.Object({
          time: TimeOut,
          exchange: Exchange,
          symbol: t.String(),
          tradeId: t.String({ description: "exchange trade id (decimal text: may exceed 2^53)" }),
          price: Decimal("price"),
          size: Decimal("size", "0.015"),
          side: t.UnionEnum(["buy", "sell", "unknown"], { description: "aggressor side" }),
        }),
      ),
      nextCursor: Nullable(t.String()),
    },
    {
      examples: [
        {
          items: [
            {
              time: "2025-01-31T12:00:00.123456Z",
              exchange: "coinbase",
              symbol: "BTC-USD",
              tradeId: "781234",
              price: "64250.5",
              size: "0.015",
              side: "buy",
            },
          ],
          nextCursor: "WyIyMDI1LTAxLTMxVDEyOjAwOjAwLjEyMzQ1NloiLDIsIjc4MTIzNCJd",
        },
      ],
    },
  ),

  candlesQuery: t.Object({
    symbol: Symbol_,
    exchange: ExchangeParam,
    interval: t.String({
      pattern: "^[1-9][0-9]{0,4}[smhd]$",
      default: "1m",
      error: "interval must be like 1s, 5m, 1h or 1d",
    }),
    from: t.Optional(Time("from")),
    to: t.Optional(Time("to")),
    limit: t.Optional(Limit(5000, 300)),
  }),
  candles: t.Object(
    {
      symbol: t.String(),
      exchange: Exchange,
      interval: t.String(),
      from: t.String(),
      to: t.String(),
      candles: t.Array(
        t.Object({
          time: TimeOut,
          open: t.String(),
          high: t.String(),
          low: t.String(),
          close: t.String(),
          volume: t.String(),
          trades: t.Integer(),
        }),
      ),
    },
    {
      description: "Buckets without trades are omitted.",
      examples: [
        {
          symbol: "BTC-USD",
          exchange: "coinbase",
          interval: "1m",
          from: "2025-01-31T11:00:00.000Z",
          to: "2025-01-31T12:00:00.000Z",
          candles: [
            {
              time: "2025-01-31T11:00:00.000000Z",
              open: "64250.5",
              high: "64300",
              low: "64200.1",
              close: "64290",
              volume: "3.25",
              trades: 42,
            },
          ],
        },
      ],
    },
  ),

  symbolQuery: t.Object({ symbol: Symbol_, exchange: t.Optional(ExchangeParam) }),
  tops: t.Object(
    {
      symbol: t.String(),
      tops: t.Array(
        t.Object({
          exchange: Exchange,
          time: TimeOut,
          ageMs: t.Integer(),
          bidPrice: Nullable(t.String()),
          bidSize: Nullable(t.String()),
          askPrice: Nullable(t.String()),
          askSize: Nullable(t.String()),
          spread: Nullable(t.String()),
        }),
      ),
    },
    {
      examples: [
        {
          symbol: "BTC-USD",
          tops: [
            {
              exchange: "kraken",
              time: "2025-01-31T12:00:00.123456Z",
              ageMs: 120,
              bidPrice: "64250",
              bidSize: "1.2",
              askPrice: "64250.1",
              askSize: "0.4",
              spread: "0.1",
            },
          ],
        },
      ],
    },
  ),
  bbo: t.Object(
    {
      symbol: t.String(),
      bid: Nullable(t.Object({ exchange: Exchange, price: t.String(), size: Nullable(t.String()) })),
      ask: Nullable(t.Object({ exchange: Exchange, price: t.String(), size: Nullable(t.String()) })),
      spread: Nullable(t.String()),
      crossed: t.Boolean({ description: "best bid above best ask across exchanges" }),
    },
    {
      examples: [
        {
          symbol: "BTC-USD",
          bid: { exchange: "coinbase", price: "64250.2", size: "0.5" },
          ask: { exchange: "kraken", price: "64250.1", size: "0.4" },
          spread: "-0.1",
          crossed: true,
        },
      ],
    },
  ),
  spreadQuery: t.Object({ symbol: Symbol_ }),
  spread: t.Object(
    {
      symbol: t.String(),
      bbo: t.Object({
        bid: Nullable(t.Object({ exchange: Exchange, price: t.String(), size: Nullable(t.String()) })),
        ask: Nullable(t.Object({ exchange: Exchange, price: t.String(), size: Nullable(t.String()) })),
        spread: Nullable(t.String()),
        crossed: t.Boolean(),
      }),
      pairs: t.Array(
        t.Object({
          buyOn: Exchange,
          sellOn: Exchange,
          ask: t.String(),
          bid: t.String(),
          edge: t.String({ description: "bid on sellOn minus ask on buyOn" }),
          edgeBps: t.String(),
        }),
      ),
    },
    {
      examples: [
        {
          symbol: "BTC-USD",
          bbo: { bid: null, ask: null, spread: null, crossed: false },
          pairs: [
            {
              buyOn: "kraken",
              sellOn: "coinbase",
              ask: "64250.1",
              bid: "64250.2",
              edge: "0.1",
              edgeBps: "0.02",
            },
          ],
        },
      ],
    },
  ),

  feeds: t.Array(
    t.Object({
      exchange: Exchange,
      state: t.UnionEnum(FEED_STATES, {
        description:
          "connected: messages within API_FEED_STALE_MS; stale: none for longer; disconnected: the collector reported a disconnect and nothing came after; unknown: nothing stored yet",
      }),
      stateSince: Nullable(
        t.String({
          description:
            "connected: the connect event, else the first message after the last disconnect (at most a day back); stale: the last message; disconnected: the disconnect",
        }),
      ),
      lastMessageAt: Nullable(t.String({ description: "newest stored trade or book top" })),
      lastTradeAt: Nullable(t.String()),
      lastBookTopAt: Nullable(t.String()),
      lastHour: t.Record(t.String(), t.Integer()),
    }),
    {
      examples: [
        [
          {
            exchange: "binance",
            state: "connected",
            stateSince: "2025-01-31T11:58:00.000000Z",
            lastMessageAt: "2025-01-31T12:00:00.123456Z",
            lastTradeAt: "2025-01-31T12:00:00.123456Z",
            lastBookTopAt: "2025-01-31T12:00:00.120001Z",
            lastHour: { gap: 1, book_resync: 1 },
          },
        ],
      ],
    },
  ),
  feedEventsQuery: t.Object({
    exchange: t.Optional(ExchangeParam),
    symbol: t.Optional(Symbol_),
    event: t.Optional(Enum(EVENTS, "event")),
    from: t.Optional(Time("from")),
    to: t.Optional(Time("to")),
    limit: t.Optional(Limit(1000, 100)),
    cursor: t.Optional(Cursor),
  }),
  feedEvents: t.Object(
    {
      items: t.Array(
        t.Object({
          time: TimeOut,
          exchange: Exchange,
          instrumentId: t.Integer({ description: "0 when the event concerns the whole connection" }),
          event: t.String(),
          detail: t.String(),
          count: t.String(),
          seq: t.String(),
        }),
      ),
      nextCursor: Nullable(t.String()),
    },
    {
      examples: [
        {
          items: [
            {
              time: "2025-01-31T12:00:00.123456Z",
              exchange: "kraken",
              instrumentId: 1,
              event: "gap",
              detail: "1042",
              count: "3",
              seq: "99120",
            },
          ],
          nextCursor: null,
        },
      ],
    },
  ),
};
