// A 500 answers a bare message and logs the cause: the Postgres error code and text, not only the SQL.
import { expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { Elysia } from "elysia";
import { createLogger } from "../lib/log.ts";
import { TEST_DATABASE_URL } from "../lib/testing.ts";
import { connectDatabase } from "./db/client.ts";
import { errorHandler } from "./errors.ts";
import { createApiMetrics } from "./metrics.ts";

test("an unexpected database error: bare 500, and the log keeps the Postgres code and message", async () => {
  const { db, sql: pool } = connectDatabase(TEST_DATABASE_URL, 1);
  const lines: string[] = [];
  const app = new Elysia()
    .use(
      errorHandler(
        createLogger({ svc: "t" }, (l) => lines.push(l)),
        createApiMetrics(),
      ),
    )
    .get("/boom", () => db.execute(sql`SELECT ${"2025-02-30"}::timestamptz`));
  try {
    const res = await app.handle(new Request("http://localhost/boom"));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "internal", message: "internal error; it has been logged" });
    const logged = JSON.parse(lines.find((l) => l.includes("request failed"))!);
    expect(logged.error.message).toContain("Failed query");
    expect(logged.error.cause).toMatchObject({ name: "PostgresError", code: "22008" });
    expect(logged.error.cause.message).toContain("date/time field value out of range");
  } finally {
    await pool.end({ timeout: 2 });
  }
});
