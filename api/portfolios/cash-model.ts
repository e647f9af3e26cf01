// Cash schemas: opening balances, deposits and withdrawals, balances and the cash ledger. The inputs are
// built from the quote currencies the instruments use (cashInputs), so the OpenAPI document lists the
// currencies the API accepts instead of refusing schema-valid ones.
import { t } from "elysia";
import { CASH_KINDS } from "../../schema/db/index.ts";
import { Cursor, Decimal, Enum, Limit } from "../model.ts";
import { OneOf } from "./one-of.ts";

const NOW = "2025-01-31T12:00:00.123456Z";

/** A currency input: one of the known quote currencies (any upper-case code when none is known yet). */
const Currency = (currencies: readonly string[]) =>
  currencies.length > 0
    ? Enum(currencies as [string, ...string[]], "currency")
    : t.String({
        pattern: "^[A-Z0-9]{1,20}$",
        error: "currency must be an upper-case quote currency such as USD",
        examples: ["USD"],
      });
const Note = t.String({
  maxLength: 200,
  pattern: "^[^\\u0000-\\u001f\\u007f]*$",
  error: "note must be at most 200 characters, with no control characters",
});

/** Money moved in: a decimal string > 0 (the pattern states it, so a zero is refused by the schema). */
const Amount = (example: string) =>
  t.String({
    pattern: "^(0\\.[0-9]{0,17}[1-9][0-9]{0,17}|[1-9][0-9]{0,17}(\\.[0-9]{1,18})?)$",
    error: `amount must be a decimal string greater than zero, such as "${example}"`,
    examples: [example],
  });

const balance = t.Object({
  currency: t.String(),
  balance: Decimal("sum of the ledger entries", "100000"),
  reserved: Decimal("held by open buy orders: remaining quantity x limit price, plus fee", "6400.16"),
  available: Decimal("balance - reserved: what new buys and withdrawals may use", "93599.84"),
});
const balanceExample = { currency: "USD", balance: "100000", reserved: "6400.16", available: "93599.84" };

const entry = t.Object({
  id: t.String(),
  currency: t.String(),
  amount: Decimal("signed: > 0 into the portfolio, < 0 out of it", "-32125.05"),
  kind: OneOf(
    CASH_KINDS,
    "initial (at creation), deposit, withdrawal, trade (a fill's notional), fee (a fill's fee)",
  ),
  fillId: t.Union([t.String(), t.Null()], { description: "the fill behind a trade or fee entry" }),
  note: t.String(),
  time: t.String(),
});
const entryExample = {
  id: "5d6e7f80-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
  currency: "USD",
  amount: "-32125.05",
  kind: "trade",
  fillId: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
  note: "",
  time: NOW,
};

export const CashModel = {
  balances: t.Array(balance, { examples: [[balanceExample]] }),
  movement: t.Object(
    { entry, balance },
    {
      examples: [
        {
          entry: { ...entryExample, amount: "2500", kind: "deposit", fillId: null, note: "top up" },
          balance: { ...balanceExample, balance: "102500", available: "96099.84" },
        },
      ],
    },
  ),
  ledger: t.Object(
    { items: t.Array(entry), nextCursor: t.Union([t.String(), t.Null()]) },
    { examples: [{ items: [entryExample], nextCursor: null }] },
  ),
};

/** The cash inputs for these currencies (the instruments' quote currencies, read at start). */
export function cashInputs(currencies: readonly string[]) {
  const currency = Currency(currencies);
  const example = currencies[0] ?? "USD";
  return {
    amount: t.Object({ currency, amount: Amount("100000") }),
    move: t.Object(
      { currency, amount: Amount("2500"), note: t.Optional(Note) },
      { examples: [{ currency: example, amount: "2500", note: "top up" }] },
    ),
    ledgerQuery: t.Object({
      currency: t.Optional(currency),
      limit: t.Optional(Limit(500, 100)),
      cursor: t.Optional(Cursor),
    }),
  };
}
export type CashInputs = ReturnType<typeof cashInputs>;
