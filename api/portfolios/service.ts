// Portfolio CRUD. Every query is scoped by the owner's user id: another user's portfolio is "not found",
// never "forbidden", so ids cannot be probed.
import { and, asc, desc, eq, sql } from "drizzle-orm";
import { cashEntries, portfolios } from "../../schema/db/index.ts";
import type { Database } from "../db/client.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { isoTime } from "../market/sql.ts";
import { dec, str } from "./exact.ts";

export interface CashAmount {
  currency: string;
  amount: string;
}

const columns = {
  id: portfolios.id,
  name: portfolios.name,
  description: portfolios.description,
  margin: portfolios.margin,
  createdAt: isoTime(sql`${portfolios.createdAt}`).mapWith(String),
  updatedAt: isoTime(sql`${portfolios.updatedAt}`).mapWith(String),
};

/** Sort fields callers may use, mapped to columns: nothing else reaches ORDER BY. */
const SORTS = { createdAt: portfolios.createdAt, name: portfolios.name } as const;
export type PortfolioSort = keyof typeof SORTS;

export class PortfolioService {
  constructor(private readonly db: Database) {}

  list(userId: string, sort: PortfolioSort = "createdAt", order: "asc" | "desc" = "asc", limit = 100) {
    const by = order === "asc" ? asc(SORTS[sort]) : desc(SORTS[sort]);
    return this.db
      .select(columns)
      .from(portfolios)
      .where(eq(portfolios.userId, userId))
      .orderBy(by, asc(portfolios.id))
      .limit(limit);
  }

  async get(userId: string, portfolioId: string) {
    const [row] = await this.db
      .select(columns)
      .from(portfolios)
      .where(and(eq(portfolios.id, portfolioId), eq(portfolios.userId, userId)));
    if (!row) throw new NotFoundError("portfolio not found");
    return row;
  }

  /** Throws 404 unless the portfolio exists and belongs to the user. */
  async requireOwned(userId: string, portfolioId: string): Promise<void> {
    await this.get(userId, portfolioId);
  }

  /** A portfolio and its opening cash (one "initial" ledger entry per currency), in one transaction. */
  async create(
    userId: string,
    input: { name: string; description?: string; margin?: boolean; cash: readonly CashAmount[] },
  ) {
    const { name, description = "", margin = false, cash } = input;
    try {
      return await this.db.transaction(async (tx) => {
        const [row] = await tx
          .insert(portfolios)
          .values({ userId, name: name.trim(), description, margin })
          .returning(columns);
        const opening = cash.filter((c) => dec(c.amount).units !== 0n);
        if (opening.length > 0)
          await tx.insert(cashEntries).values(
            opening.map((c) => ({
              portfolioId: row!.id,
              currency: c.currency,
              amount: str(dec(c.amount)),
              kind: "initial" as const,
              note: "opening balance",
            })),
          );
        return row!;
      });
    } catch (error) {
      throw this.nameTaken(error, name);
    }
  }

  async update(
    userId: string,
    portfolioId: string,
    patch: { name?: string; description?: string; margin?: boolean },
  ) {
    // Nothing to change is not an error (unknown fields are ignored everywhere): the portfolio as it is.
    if (patch.name === undefined && patch.description === undefined && patch.margin === undefined)
      return this.get(userId, portfolioId);
    try {
      const [row] = await this.db
        .update(portfolios)
        .set({ ...patch, ...(patch.name ? { name: patch.name.trim() } : {}), updatedAt: sql`now()` })
        .where(and(eq(portfolios.id, portfolioId), eq(portfolios.userId, userId)))
        .returning(columns);
      if (!row) throw new NotFoundError("portfolio not found");
      return row;
    } catch (error) {
      throw this.nameTaken(error, patch.name ?? "");
    }
  }

  async remove(userId: string, portfolioId: string): Promise<void> {
    const deleted = await this.db
      .delete(portfolios)
      .where(and(eq(portfolios.id, portfolioId), eq(portfolios.userId, userId)))
      .returning({ id: portfolios.id });
    if (deleted.length === 0) throw new NotFoundError("portfolio not found");
  }

  private nameTaken(error: unknown, name: string): unknown {
    return isUniqueViolation(error)
      ? new ConflictError(`you already have a portfolio named ${JSON.stringify(name.trim())}`)
      : error;
  }
}
