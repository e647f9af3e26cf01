// GET /market/book-history?symbol=BTC-USD&exchange=kraken&at=2026-12-01T23:00:00.123456789Z — the order book
// of one instrument on one exchange as it was at a receive time, rebuilt from the stored book changes (the last
// snapshot before it plus the deltas after: bridge/sink/book-history.ts, docs/storage.md). An Elysia plugin;
// the app mounts it with the API's Postgres pool and registry.
import { Elysia, t } from "elysia";
import type postgres from "postgres";
import { BookHistoryError, rebuildBook } from "../../bridge/sink/book-history.ts";
import { EXCHANGE_IDS, EXCHANGES } from "../../schema/frame.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";
import { errorResponses, NotFoundError, UnprocessableError } from "../errors.ts";

export interface BookHistoryOptions {
  readonly sql: postgres.Sql;
  readonly registry: InstrumentRegistry;
  /** The bridge's depths, so the rebuild cuts the book as the bridge did (KRAKEN_BOOK_DEPTH, BRIDGE_BOOK_DEPTH). */
  readonly krakenDepth?: number;
  readonly otherDepth?: number;
}

const NS_DIGITS = /^\d{1,19}$/;
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** "1764630000123456789" (ns) or an ISO-8601 time with up to 9 fraction digits → ns since the epoch, exactly. */
export function parseAtNs(text: string): bigint {
  if (NS_DIGITS.test(text)) return BigInt(text);
  const m = ISO.exec(text);
  const seconds = m ? Date.parse(`${m[1]}${m[3]}`) : Number.NaN;
  if (!m || Number.isNaN(seconds)) {
    throw new UnprocessableError(
      `at must be ns since the epoch or an ISO time like 2026-12-01T23:00:00.5Z, got ${JSON.stringify(text)}`,
    );
  }
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

// [price, size]; an array of two strings, not t.Tuple (its `items: [...]` is not valid OpenAPI 3.1).
const Level = t.Array(t.String(), { minItems: 2, maxItems: 2 });
const BookAt = t.Object(
  {
    exchange: t.String(),
    symbol: t.String(),
    at: t.String({ description: "the receive time asked for, ns since the epoch" }),
    bids: t.Array(Level, { description: "[price, size], best first, exact decimal text" }),
    asks: t.Array(Level),
    snapshotRecvNs: t.String({ description: "receive time of the snapshot the book was rebuilt from" }),
    changes: t.Integer({ description: "book changes applied (snapshot levels included)" }),
    seq: t.Integer(),
    updateId: t.String(),
    recvNs: t.String({ description: "receive time of the last update applied" }),
  },
  {
    examples: [
      {
        exchange: "coinbase",
        symbol: "BTC-USD",
        at: "1764630000000000500",
        bids: [["100.5", "1"]],
        asks: [["101", "2"]],
        snapshotRecvNs: "1764630000000000000",
        changes: 2,
        seq: 2,
        updateId: "1",
        recvNs: "1764630000000000000",
      },
    ],
  },
);

export function bookHistoryRoutes(opts: BookHistoryOptions) {
  return new Elysia({ prefix: "/market", detail: { tags: ["market data"] } }).get(
    "/book-history",
    async ({ query }) => {
      const inst = opts.registry.bySymbol(query.symbol);
      if (!inst) throw new NotFoundError(`unknown symbol ${JSON.stringify(query.symbol)}`);
      const exchange = query.exchange;
      if (!inst.venues[exchange]) throw new NotFoundError(`${inst.symbol} is not listed on ${exchange}`);
      const atNs = parseAtNs(query.at);
      const kraken = exchange === "kraken";
      try {
        const book = await rebuildBook(opts.sql, {
          exchange: EXCHANGE_IDS[exchange],
          instrumentId: inst.id,
          priceDecimals: inst.priceDecimals,
          sizeDecimals: inst.sizeDecimals,
          atNs,
          depth: kraken ? (opts.krakenDepth ?? 10) : (opts.otherDepth ?? 1000),
          strict: kraken,
        });
        if (!book)
          throw new NotFoundError(
            `no stored snapshot of ${inst.symbol} on ${exchange} at or before ${query.at}`,
          );
        const levels = (side: typeof book.bids) =>
          side.map(([price, size]): [string, string] => [price, size]);
        return {
          exchange,
          symbol: inst.symbol,
          at: atNs.toString(),
          ...book,
          bids: levels(book.bids),
          asks: levels(book.asks),
        };
      } catch (error) {
        if (error instanceof BookHistoryError) throw new UnprocessableError(error.message);
        throw error;
      }
    },
    {
      query: t.Object({
        symbol: t.String({ examples: ["BTC-USD"] }),
        exchange: t.UnionEnum([...EXCHANGES]),
        at: t.String({ description: "ns since the epoch, or an ISO-8601 time (up to 9 fraction digits)" }),
      }),
      response: { 200: BookAt, ...errorResponses },
      detail: {
        summary: "Order book at a time",
        description:
          "The book of one instrument on one exchange as the bridge held it at a receive time: the last stored snapshot at or before `at`, plus every change after it up to `at`.",
      },
    },
  );
}
