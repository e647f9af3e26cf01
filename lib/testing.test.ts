import { describe, expect, test } from "bun:test";
import { freshDatabase, waitFor } from "./testing.ts";

describe("waitFor", () => {
  test("resolves with the first truthy value, as soon as it holds", async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { timeoutMs: 1000 });
    expect(value).toEqual({ calls: 3 });
  });

  test("a throwing condition is retried; the timeout names what and quotes the last error", async () => {
    let calls = 0;
    expect(
      await waitFor(() => {
        if (++calls < 3) throw new Error("not up");
        return true;
      }),
    ).toBe(true);
    const started = performance.now();
    await expect(
      waitFor(
        () => {
          throw new Error("connection refused");
        },
        { timeoutMs: 50, what: "the server" },
      ),
    ).rejects.toThrow("timed out after 50 ms waiting for the server (last error: connection refused)");
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
  });
});

describe("freshDatabase", () => {
  test("creates a migrated database of its own and drops it on dispose", async () => {
    let name: string;
    {
      await using db = await freshDatabase({ prefix: "tw_lib" });
      name = db.name;
      expect(name).toStartWith("tw_lib_");
      const tables = await db.sql<
        { t: string }[]
      >`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`;
      expect(tables.map((r) => r.t)).toContain("trades");
      const [tz] = await db.sql<{ tz: string }[]>`SELECT current_setting($$TimeZone$$) AS tz`;
      expect(tz?.tz).toBe("UTC");
    }
    await using other = await freshDatabase({ migrate: false });
    const [row] = await other.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM pg_database WHERE datname = ${name}`;
    expect(row?.n).toBe(0);
    const tables = await other.sql`SELECT 1 FROM pg_tables WHERE schemaname = 'public'`;
    expect(tables.length).toBe(0);
  });
});
