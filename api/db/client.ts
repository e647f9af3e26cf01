// The API's Postgres pool (postgres.js) and the Drizzle instance over it. Sessions run in UTC so every
// timestamp the SQL formats is UTC; numeric and bigint columns come back as exact strings. JIT is off: on
// these short queries compiling costs more (100+ ms for a candle query) than it saves.
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "../../schema/db/index.ts";

export function connectDatabase(url: string, poolSize: number, applicationName = "tapewire-api") {
  const sql = postgres(url, {
    max: poolSize,
    connection: { TimeZone: "UTC", application_name: applicationName, jit: "off" },
    onnotice: () => {},
  });
  return { sql, db: drizzle(sql, { schema }) };
}

export type Database = ReturnType<typeof connectDatabase>["db"];
export type Sql = ReturnType<typeof connectDatabase>["sql"];
/** A Drizzle transaction (same query surface as Database). */
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
