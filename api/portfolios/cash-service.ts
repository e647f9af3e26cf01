// Deposits, withdrawals and balances. Each movement is one ledger entry written under the portfolio's row
// lock, so a withdrawal can never spend what a concurrent order or withdrawal already holds.
import type { Database } from "../db/client.ts";
import { NotFoundError, UnprocessableError } from "../errors.ts";
import type { InstrumentCatalog } from "../market/catalog.ts";
import {
  addEntry,
  availableCash,
  cashBalances,
  InsufficientError,
  lockPortfolio,
  queryLedger,
} from "./cash.ts";
import { cmp, dec, neg, str } from "./exact.ts";
import type { CashAmount } from "./service.ts";

/** Opening cash when a create request names none: this much in every quote currency. */
export const DEFAULT_OPENING_CASH = "100000";

export class CashService {
  constructor(
    private readonly db: Database,
    private readonly catalog: InstrumentCatalog,
    private readonly feeBps: string,
  ) {}

  /** Quote currencies of the known instruments: the only ones cash can be held in. */
  currencies(): string[] {
    return [...new Set(this.catalog.all().map((i) => i.quote))].sort();
  }

  /**
   * Check opening cash (known currencies), or the default when none was sent. Each item is one opening
   * ledger entry, so a currency named twice opens with the sum (JSON Schema cannot forbid the repeat).
   */
  opening(cash: readonly CashAmount[] | undefined): CashAmount[] {
    const known = this.currencies();
    if (cash === undefined) return known.map((currency) => ({ currency, amount: DEFAULT_OPENING_CASH }));
    for (const c of cash) this.requireCurrency(c.currency, known);
    return [...cash];
  }

  private requireCurrency(currency: string, known = this.currencies()): void {
    if (!known.includes(currency))
      throw new UnprocessableError(`currency must be one of ${known.join(", ")}; got ${currency}`);
  }

  balances(portfolioId: string) {
    return cashBalances(this.db, portfolioId, this.feeBps);
  }

  async move(
    userId: string,
    portfolioId: string,
    kind: "deposit" | "withdrawal",
    input: { currency: string; amount: string; note?: string },
  ) {
    this.requireCurrency(input.currency);
    const amount = dec(input.amount);
    if (amount.units <= 0n) throw new UnprocessableError("amount must be greater than zero");
    return this.db.transaction(async (tx) => {
      await lockPortfolio(tx, userId, portfolioId);
      if (kind === "withdrawal") {
        const available = await availableCash(tx, portfolioId, input.currency, this.feeBps);
        if (cmp(amount, available) > 0)
          throw new InsufficientError(
            "insufficient_funds",
            `withdrawing ${str(amount)} ${input.currency} needs that much available; ` +
              `${str(available)} ${input.currency} is (the balance less what open buy orders hold)`,
          );
      }
      const entry = await addEntry(tx, {
        portfolioId,
        currency: input.currency,
        amount: kind === "deposit" ? amount : neg(amount),
        kind,
        note: input.note,
      });
      const balance = (await cashBalances(tx, portfolioId, this.feeBps)).find(
        (b) => b.currency === input.currency,
      );
      if (!balance) throw new NotFoundError("portfolio not found");
      return { entry: { ...entry, amount: str(dec(entry.amount)) }, balance };
    });
  }

  ledger(portfolioId: string, f: { currency?: string; limit: number; cursor?: string }) {
    return queryLedger(this.db, portfolioId, f);
  }
}
