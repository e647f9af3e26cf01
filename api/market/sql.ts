// SQL fragments shared by the market queries.
import { type SQL, sql } from "drizzle-orm";

/** timestamptz as RFC 3339 UTC text with microseconds (the column's full precision; a JS Date has ms). */
export const isoTime = (column: SQL): SQL =>
  sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
