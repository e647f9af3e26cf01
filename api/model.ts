// Shared `t` building blocks. Each carries its own error text so a 422 says what to send, not how the
// validator works ("limit must be an integer 1..1000", not "Expected union value").
import { t } from "elysia";
import { EXCHANGES } from "../schema/frame.ts";
import { TIME_RANGE_TEXT } from "./time.ts";

export const Symbol_ = t.String({
  pattern: "^[A-Za-z0-9]{1,20}-[A-Za-z0-9]{1,20}$",
  error: "symbol must be a canonical symbol like BTC-USD",
  examples: ["BTC-USD"],
});

/**
 * An input enum. t.UnionEnum alone defaults to its first value, which would silently turn a missing
 * `side` into "buy" or a missing `exchange` filter into "kraken": the default here is explicit or none.
 */
export const Enum = <const V extends readonly [string, ...string[]]>(
  values: V,
  name: string,
  fallback?: V[number],
) => t.UnionEnum(values, { error: `${name} must be one of ${values.join(", ")}`, default: fallback });

export const ExchangeParam = Enum(EXCHANGES, "exchange");

export const Limit = (max: number, fallback: number) =>
  t.Integer({ minimum: 1, maximum: max, default: fallback, error: `limit must be an integer 1..${max}` });

/** A client time. The range (0001..9999) and calendar checks are in time.ts (parseTime), run by the services. */
export const Time = (name: string) =>
  t.String({
    format: "date-time",
    error: `${name} must be an RFC 3339 time such as 2025-01-31T12:00:00Z`,
    description: `RFC 3339 date-time ${TIME_RANGE_TEXT}`,
    examples: ["2025-01-31T12:00:00Z"],
  });

export const Cursor = t.String({
  pattern: "^[A-Za-z0-9_-]{1,512}$",
  error: "cursor must be a nextCursor value from a previous page",
});

export const Order = Enum(["desc", "asc"], "order", "desc");

export const Uuid = (name: string) => t.String({ format: "uuid", error: `${name} must be a uuid` });

/** Exact decimal text: prices, sizes, money. Never a JSON number. */
export const Decimal = (description: string, example = "64250.5") =>
  t.String({ description, examples: [example] });

/** Positive exact decimal input (quantities, limit prices); scale is checked per instrument. */
export const PositiveDecimal = (name: string, example: string) =>
  t.String({
    pattern: "^(0|[1-9][0-9]{0,17})(\\.[0-9]{1,18})?$",
    error: `${name} must be a positive decimal string such as "${example}"`,
    examples: [example],
  });

export const Page = <T extends Parameters<typeof t.Array>[0]>(item: T) => ({
  items: t.Array(item),
  nextCursor: t.Union([t.String(), t.Null()], {
    description: "pass as cursor for the next page; null at the end",
  }),
});
