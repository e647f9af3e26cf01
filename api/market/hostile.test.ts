// The probe's hostile query values, per route: each must be a JSON 4xx that says what is wrong, never a
// 500. Cursors are forged the way an attacker would: valid base64url JSON with out-of-range fields.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestApi, type TestApi } from "../test/harness.ts";
import { encodeCursor } from "./cursor.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ API_CACHE_TTL_MS: "0" });
});
afterAll(() => api.close());

const forge = (key: unknown[]) => encodeCursor(key as (string | number)[]);
const T = "2025-01-01T00:00:00.000000Z";
const HOSTILE_TIMES = [
  "2025-02-30T00:00:00Z",
  "2023-02-29T00:00:00Z",
  "0000-01-01T00:00:00Z",
  "2025-13-45T99:99:99Z",
  "2025-01-01T24:00:00Z",
  "2025-01-01T00:00:60Z",
  "2025-01-01T00:00:00+24:00",
  "0001-01-01T00:00:00+01:00",
];
const TRADE_CURSORS = [
  forge(["2025-13-45T99:99:99.000000Z", 1, "1"]),
  forge(["0000-01-01T00:00:00.000000Z", 1, "1"]),
  forge([T, 99999, "1"]),
  forge([T, 0, "1"]),
  forge([T, -1, "1"]),
  forge([T, 1, "9223372036854775808"]),
  forge([T, 1, "99999999999999999999"]),
  forge([T, 1.5, "1"]),
  forge([T, 1]),
];
const FEED_CURSORS = [
  forge(["2025-02-30T00:00:00.000000Z", "1", 1]),
  forge([T, "-9223372036854775809", 1]),
  forge([T, "1", 40000]),
  forge([T, "1", 4]),
];

const cases: [string, string][] = [
  ...HOSTILE_TIMES.flatMap((t): [string, string][] => [
    [`/api/market/trades?symbol=BTC-USD&from=${encodeURIComponent(t)}`, t],
    [`/api/market/trades?symbol=BTC-USD&to=${encodeURIComponent(t)}`, t],
    [`/api/market/feed-events?from=${encodeURIComponent(t)}`, t],
    [`/api/market/feed-events?to=${encodeURIComponent(t)}`, t],
    [`/api/market/candles?symbol=BTC-USD&exchange=kraken&to=${encodeURIComponent(t)}`, t],
    [`/api/market/candles?symbol=BTC-USD&exchange=kraken&from=${encodeURIComponent(t)}`, t],
  ]),
  ...TRADE_CURSORS.map((c): [string, string] => [`/api/market/trades?symbol=BTC-USD&cursor=${c}`, c]),
  ...FEED_CURSORS.map((c): [string, string] => [`/api/market/feed-events?cursor=${c}`, c]),
];

describe("hostile query values are 4xx JSON, never 500", () => {
  test.each(cases)("%s", async (path) => {
    const res = await api.call("GET", path);
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.body.error).toBe("validation");
    expect(typeof res.body.message).toBe("string");
  });
});

describe("edge values that are valid are answered", () => {
  test.each([
    "/api/market/candles?symbol=BTC-USD&exchange=kraken&to=0001-01-01T00:00:00Z",
    "/api/market/candles?symbol=BTC-USD&exchange=kraken&interval=1d&limit=5000&to=0001-01-02T00:00:00Z",
    "/api/market/candles?symbol=BTC-USD&exchange=kraken&to=9999-12-31T23:59:59Z",
    "/api/market/trades?symbol=BTC-USD&from=0001-01-01T00:00:00Z",
    "/api/market/trades?symbol=BTC-USD&to=9999-12-31T23:59:59.999999Z",
    "/api/market/trades?symbol=BTC-USD&from=2024-02-29T00:00:00%2B05:30",
    "/api/market/feed-events?from=0001-01-01T00:00:00Z&to=9999-12-31T00:00:00Z",
    `/api/market/trades?symbol=BTC-USD&cursor=${forge([T, 3, "9223372036854775807"])}`,
    `/api/market/feed-events?cursor=${forge([T, "-9223372036854775808", 3])}`,
  ])("%s -> 200", async (path) => {
    const res = await api.call("GET", path);
    expect(res.status).toBe(200);
  });

  test("the message names the parameter and the problem", async () => {
    const res = await api.call("GET", "/api/market/trades?symbol=BTC-USD&from=2025-02-30T00:00:00Z");
    expect(res.body.message).toBe(
      "from must be an RFC 3339 time such as 2025-01-31T12:00:00Z (2025-02 has no day 30)",
    );
  });
});
