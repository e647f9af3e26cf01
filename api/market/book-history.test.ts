// The book-history route on a real Postgres: a stored snapshot plus a delta come back as the book at a time,
// and bad input gets a JSON 4xx that says what is wrong.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { createLogger } from "../../lib/log.ts";
import { type FreshDatabase, freshDatabase } from "../../lib/testing.ts";
import { Exchange, FLAG_ASK, FLAG_BEGIN, FLAG_END, FLAG_SNAPSHOT } from "../../schema/frame.ts";
import { loadRegistry } from "../../schema/instruments.ts";
import { errorHandler } from "../errors.ts";
import { createApiMetrics } from "../metrics.ts";
import { bookHistoryRoutes, parseAtNs } from "./book-history.ts";

const registry = loadRegistry({});
let db: FreshDatabase;
let app: { handle(r: Request): Promise<Response> };
beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_api_book_history" });
  const t0 = 1_764_630_000_000_000_000n;
  const row = (flags: number, price: string, size: string, seq: number, recvNs: bigint) =>
    db.sql`INSERT INTO book_changes (time, exchange, instrument_id, flags, price, size, update_id, seq, recv_ns)
           VALUES (now(), ${Exchange.Coinbase}, 1, ${flags}, ${price}, ${size}, 1, ${seq}, ${recvNs.toString()})`;
  await row(FLAG_SNAPSHOT | FLAG_BEGIN, "100.5", "1", 1, t0);
  await row(FLAG_SNAPSHOT | FLAG_ASK | FLAG_END, "101", "2", 2, t0);
  await row(FLAG_END, "100.5", "0", 3, t0 + 1000n); // the bid goes
  app = new Elysia()
    .use(
      errorHandler(
        createLogger({}, () => {}),
        createApiMetrics(),
      ),
    )
    .use(bookHistoryRoutes({ sql: db.sql, registry }));
});
afterAll(async () => {
  await db.drop();
});

const get = async (query: string) => {
  const res = await app.handle(new Request(`http://localhost/market/book-history?${query}`));
  return { status: res.status, body: await res.json() };
};

test("the book at a time: the snapshot, then the snapshot plus the delta", async () => {
  const at = await get("symbol=BTC-USD&exchange=coinbase&at=1764630000000000500");
  expect(at).toMatchObject({
    status: 200,
    body: { bids: [["100.5", "1"]], asks: [["101", "2"]], seq: 2, changes: 2 },
  });
  const later = await get("symbol=BTC-USD&exchange=coinbase&at=2025-12-01T23:00:00.000001Z");
  expect(later).toMatchObject({ status: 200, body: { bids: [], asks: [["101", "2"]], seq: 3, changes: 3 } });
});

test("bad input is a JSON 4xx naming the problem; no snapshot is a 404", async () => {
  expect((await get("symbol=DOGE-USD&exchange=coinbase&at=1")).body.message).toContain("unknown symbol");
  expect((await get("symbol=SHIB-USDT&exchange=kraken&at=1")).body.message).toContain("not listed on kraken");
  expect(await get("symbol=BTC-USD&exchange=coinbase&at=yesterday")).toMatchObject({ status: 422 });
  expect(await get("symbol=BTC-USD&exchange=coinbase&at=")).toMatchObject({ status: 422 });
  expect((await get("symbol=DOGE-USD&exchange=coinbase&at=1")).status).toBe(404);
  expect((await get("symbol=BTC-USD&exchange=ftx&at=1")).status).toBe(422);
  expect(await get("symbol=BTC-USD&exchange=coinbase&at=1")).toMatchObject({
    status: 404,
    body: { error: "not_found" },
  });
});

test("parseAtNs is exact to the nanosecond", () => {
  expect(parseAtNs("2025-12-01T23:00:00.123456789Z")).toBe(1_764_630_000_123_456_789n);
  expect(parseAtNs("2025-12-02T00:00:00.5+01:00")).toBe(1_764_630_000_500_000_000n);
  expect(parseAtNs("42")).toBe(42n);
});
