// The analytics routes over HTTP: validation answers 422 with what is wrong, SQL needs a login, hostile SQL
// is refused with a JSON 4xx, and a good query returns exact values.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newUser, startTestApi, type TestApi } from "../test/harness.ts";

let api: TestApi;
let token: string;
const archive = mkdtempSync(join(tmpdir(), "tw-analytics-routes-"));

beforeAll(async () => {
  api = await startTestApi({ ARCHIVE_DIR: archive });
  token = (await newUser(api, "analyst")).token;
  await api.db
    .sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
    VALUES ('2026-11-30T10:00:01Z', 1, 1, 1, '90000.10', '0.5', 'buy', 1, 1), ('2026-11-30T10:00:02Z', 1, 1, 2, '90000.30', '1.5', 'sell', 2, 2)`;
});
afterAll(async () => {
  await api?.close();
  rmSync(archive, { recursive: true, force: true });
});

const range = "from=2026-11-30T00:00:00Z&to=2026-12-01T00:00:00Z";

describe("analytics routes", () => {
  test("OHLCV with exact VWAP over the database part", async () => {
    const r = await api.call("GET", `/api/analytics/ohlcv?symbol=BTC-USD&${range}&interval=1h`);
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([
      {
        exchange: "kraken",
        symbol: "BTC-USD",
        time: "2026-11-30T10:00:00.000000Z",
        open: "90000.1",
        high: "90000.3",
        low: "90000.1",
        close: "90000.3",
        volume: "2",
        vwap: "90000.25",
        trades: 2,
      },
    ]);
    expect(r.body.sources).toEqual({ archivedFiles: 0, databaseRows: 2 });
  });

  const bad: [string, RegExp][] = [
    [`/api/analytics/ohlcv?from=2026-11-30T00:00:00Z`, /to/],
    [
      `/api/analytics/ohlcv?from=2025-02-30T00:00:00Z&to=2025-03-01T00:00:00Z`,
      /from must be an RFC 3339 time/,
    ],
    [`/api/analytics/ohlcv?from=0000-01-01T00:00:00Z&to=2025-03-01T00:00:00Z`, /between 1970 and 9999/],
    [`/api/analytics/ohlcv?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z`, /from must be before to/],
    [`/api/analytics/ohlcv?${range}&interval=7y`, /interval/],
    [`/api/analytics/ohlcv?${range}&interval=0s`, /interval/],
    [`/api/analytics/ohlcv?${range}&symbol=NOPE-USD`, /unknown symbol/],
    [`/api/analytics/volatility?${range}&exchange=mtgox`, /exchange must be one of/],
    [`/api/analytics/spreads?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`, /at most 366 days/],
  ];
  for (const [path, why] of bad)
    test(`422 for ${path.slice(15, 90)}`, async () => {
      const r = await api.call("GET", path);
      expect(r.status).toBe(422);
      expect(r.body.message).toMatch(why);
    });

  test("SQL needs a login, answers exact JSON, refuses what is not a SELECT", async () => {
    const anonymous = await api.call("POST", "/api/analytics/sql", { body: { sql: "SELECT 1" } });
    expect(anonymous.status).toBe(401);
    const ok = await api.call("POST", "/api/analytics/sql", {
      token,
      body: { sql: "SELECT 1::DECIMAL(18,2) / 1 AS x, 12345678901234567890::HUGEINT AS big" },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.columns).toEqual(["x", "big"]);
    expect(ok.body.rows[0].big).toBe("12345678901234567890"); // past 2^53: a string, exact
    for (const sql of ["DELETE FROM trades", "SELECT * FROM read_csv('/etc/passwd')", "SELECT 1; SELECT 2"]) {
      const r = await api.call("POST", "/api/analytics/sql", { token, body: { sql } });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body.error).toBe("sql");
    }
    const csv = await api.call("POST", "/api/analytics/sql", {
      token,
      body: { sql: "SELECT symbol FROM instruments WHERE id = 1", format: "csv" },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-disposition")).toContain("result.csv");
    expect(csv.text).toBe("symbol\nBTC-USD\n");
  });
});
