// The tables the bridge COPYs into, taken from the Drizzle table objects in schema/db/market.ts: the COPY
// column list and the order rows.ts writes fields in both come from the table's own column declarations, so
// there is no second list of columns to keep in step.
import { getTableColumns, getTableName } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { bookChanges, bookTops, feedEvents, trades } from "../../schema/db/market.ts";

/** SQL table name → Drizzle table, in the order one batch writes them. */
export const COPY_TABLES = {
  trades,
  book_tops: bookTops,
  feed_events: feedEvents,
  book_changes: bookChanges,
} as const;

export type TableName = keyof typeof COPY_TABLES;
export const TABLE_NAMES = Object.freeze(Object.keys(COPY_TABLES)) as readonly TableName[];
export const isTableName = (s: string): s is TableName => Object.hasOwn(COPY_TABLES, s);

/** The table's column property keys (Drizzle names, e.g. "instrumentId"), in declaration order. */
export type ColumnKey<T extends PgTable> = keyof T["_"]["columns"] & string;

export function columnKeys<T extends PgTable>(table: T): ColumnKey<T>[] {
  return Object.keys(getTableColumns(table)) as ColumnKey<T>[];
}

/** `"time", "exchange", ...`: SQL column names in declaration order, quoted, for COPY and INSERT ... SELECT. */
export function copyColumnList(table: TableName): string {
  return Object.values(getTableColumns(COPY_TABLES[table]))
    .map((c) => `"${c.name}"`)
    .join(", ");
}

export function sqlTableName(table: TableName): string {
  return getTableName(COPY_TABLES[table]);
}
