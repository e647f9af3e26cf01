// The strategies routes on real Postgres, over rows the trader's recorder wrote from a real paper run's spool
// (trader/recorder/fixtures/paper-run.jsonl: the market maker bought 0.001 BTCUSDT at 41958.50 and sold it at
// 42042.50 on the sandbox).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import { applyRecords } from "../../trader/recorder/apply.ts";
import { parseRecord, type SpoolRecord } from "../../trader/recorder/records.ts";
import { newUser, startTestApi, type TestApi } from "../test/harness.ts";

const FIXTURE = join(import.meta.dir, "..", "..", "trader", "recorder", "fixtures", "paper-run.jsonl");
const RECORDS = readFileSync(FIXTURE, "utf8").trimEnd().split("\n").map(parseRecord);
const RUN = RECORDS[0]!.run;

let api: TestApi;
let token: string;
const get = (path: string) => api.call("GET", path, { token });

beforeAll(async () => {
  api = await startTestApi();
  token = (await newUser(api, "quant")).token;
  await applyRecords(drizzle(api.db.sql), RECORDS);
});

/** NETTING reopens the same position id: a PositionOpened after the close, with the new cycle's PnL. */
function reopened(seq: number): SpoolRecord {
  const opened = RECORDS.find((r) => r.kind === "position.PositionOpened")!;
  const event = { ...(opened.event as Record<string, unknown>), realized_pnl: "-0.00100000 USDT" };
  return {
    ...opened,
    seq,
    ts: RECORDS.at(-1)!.ts + 1n,
    event,
    position: { ...opened.position!, side: "SHORT", signed_qty: "-0.00100", realized_pnl: "-0.00100000" },
  };
}
afterAll(() => api?.close());

describe("strategies", () => {
  test("runs list the recorded run with its strategy and counts", async () => {
    const res = await get("/api/strategies/runs");
    expect(res.status).toBe(200);
    const [run] = res.body.items;
    expect(run).toMatchObject({
      id: RUN,
      strategyId: "InventoryMarketMaker-000",
      strategy: "market_maker",
      mode: "paper",
      instruments: ["BTCUSDT.BINANCE"],
      orders: new Set(RECORDS.filter((r) => r.order).map((r) => r.order!.client_order_id)).size,
      fills: 2,
      lastSeq: RECORDS.length,
    });
    expect(run.config.half_spread_bps).toBe("10");
    expect(run.stoppedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect((await get("/api/strategies/runs?mode=live")).body.items).toEqual([]);
    expect((await get(`/api/strategies/runs/${RUN}`)).body.id).toBe(RUN);
  });

  test("orders, fills and positions are exact", async () => {
    const fills = await get(`/api/strategies/runs/${RUN}/fills`);
    expect(fills.status).toBe(200);
    expect(fills.body.items.map((f: Record<string, string>) => [f.side, f.quantity, f.price])).toEqual([
      ["SELL", "0.00100", "42042.50"],
      ["BUY", "0.00100", "41958.50"],
    ]);
    expect(fills.body.nextBeforeSeq).toBeNull();
    const page = await get(`/api/strategies/runs/${RUN}/fills?limit=1`);
    expect(page.body.items).toHaveLength(1);
    const older = await get(`/api/strategies/runs/${RUN}/fills?beforeSeq=${page.body.nextBeforeSeq}`);
    expect(older.body.items.map((f: Record<string, string>) => f.side)).toEqual(["BUY"]);
    const newer = await get(`/api/strategies/runs/${RUN}/fills?afterSeq=${older.body.items[0].seq}`);
    expect(newer.body.items.map((f: Record<string, string>) => f.side)).toEqual(["SELL"]);

    const orders = await get(`/api/strategies/runs/${RUN}/orders?status=FILLED`);
    expect(orders.body.items.map((o: Record<string, string>) => [o.side, o.avgPx, o.filledQty])).toEqual([
      ["SELL", "42042.5", "0.00100"],
      ["BUY", "41958.5", "0.00100"],
    ]);
    const open = await get(`/api/strategies/runs/${RUN}/orders?status=open`);
    expect(open.body.items).toEqual([]); // the strategy canceled its quotes when it stopped
    const positions = await get(`/api/strategies/runs/${RUN}/positions`);
    expect(positions.body.items).toHaveLength(1);
    expect(positions.body.items[0]).toMatchObject({
      side: "FLAT",
      signedQty: "0",
      realizedPnl: "0.08400000",
    });
  });

  test("PnL: realized from positions, commissions from fills, balances against the first account state", async () => {
    const res = await get(`/api/strategies/runs/${RUN}/pnl`);
    expect(res.status).toBe(200);
    expect(res.body.totals).toEqual([
      { currency: "USDT", realized: "0.08400000", unrealized: "0", commissions: "0.00000000" },
    ]);
    const usdt = res.body.balances.find((b: Record<string, string>) => b.currency === "USDT");
    expect(usdt.start).toBe("100000.00000000");
    expect(BigInt(usdt.change.replace(".", "")) >= 0n).toBe(true);
    const states = new Set(RECORDS.filter((r) => r.balances).map((r) => r.seq)).size;
    const currencies = new Set(res.body.curve.map((p: Record<string, string>) => p.currency));
    expect(res.body.curve).toHaveLength(states * currencies.size);
  });

  test("PnL keeps a closed cycle's realized PnL when NETTING reopens the same position id", async () => {
    const db = drizzle(api.db.sql);
    await applyRecords(db, [reopened(RECORDS.length + 1)]);
    try {
      const res = await get(`/api/strategies/runs/${RUN}/pnl`);
      // 0.084 from the closed cycle, -0.001 (its fee) from the open one.
      expect(res.body.totals[0]).toMatchObject({ currency: "USDT", realized: "0.08300000" });
      const positions = await get(`/api/strategies/runs/${RUN}/positions`);
      expect(positions.body.items[0]).toMatchObject({ side: "SHORT", realizedPnl: "-0.00100000" });
    } finally {
      await api.db.sql`DELETE FROM trader_events WHERE run_id = ${RUN} AND seq > ${RECORDS.length}`;
      await api.db.sql`UPDATE trader_runs SET last_seq = ${RECORDS.length} WHERE id = ${RUN}`;
      await api.db.sql`DELETE FROM trader_positions WHERE run_id = ${RUN}`;
      await applyRecords(db, RECORDS);
    }
  });

  test("events page newest first and filter by kind prefix", async () => {
    const res = await get(`/api/strategies/runs/${RUN}/events?kind=order.OrderFilled`);
    expect(res.body.items.map((e: Record<string, string>) => e.message)).toEqual([
      "SELL 0.00100 BTCUSDT.BINANCE filled 0.00100 @ 42042.50",
      "BUY 0.00100 BTCUSDT.BINANCE filled 0.00100 @ 41958.50",
    ]);
    const all = await get(`/api/strategies/runs/${RUN}/events?limit=1000`);
    expect(all.body.items.map((e: { seq: number }) => e.seq)).toEqual(RECORDS.map((r) => r.seq).reverse());
    expect((await get(`/api/strategies/runs/${RUN}/events?kind=position.`)).body.items.length).toBe(2);
  });

  test("bad input is a JSON 4xx that names it; no token is 401", async () => {
    const cases: [string, number, string][] = [
      ["/api/strategies/runs/not-a-uuid", 422, "runId"],
      ["/api/strategies/runs?limit=0", 422, "limit"],
      ["/api/strategies/runs?mode=backtest", 422, "mode"],
      [`/api/strategies/runs/${RUN}/fills?beforeSeq=-1`, 422, "beforeSeq"],
      [`/api/strategies/runs/${RUN}/fills?afterSeq=1.5`, 422, "afterSeq"],
      [`/api/strategies/runs/${RUN}/orders?status=filled'--`, 422, "status"],
      [`/api/strategies/runs/${RUN}/events?kind=${"x".repeat(80)}`, 422, "kind"],
      ["/api/strategies/runs/00000000-0000-4000-8000-000000000000/orders", 404, "no trader run"],
    ];
    for (const [path, status, word] of cases) {
      const res = await get(path);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(res.body.message).toContain(word);
    }
    const anon = await api.call("GET", "/api/strategies/runs");
    expect(anon.status).toBe(401);
  });

  test("OpenAPI has a strategies tag with every route", async () => {
    const doc = (await api.call("GET", "/openapi/json")).body;
    expect(doc.tags.map((t: { name: string }) => t.name)).toContain("strategies");
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith("/api/strategies"));
    expect(paths.sort()).toEqual(
      [
        "/api/strategies/runs",
        "/api/strategies/runs/{runId}",
        "/api/strategies/runs/{runId}/events",
        "/api/strategies/runs/{runId}/fills",
        "/api/strategies/runs/{runId}/orders",
        "/api/strategies/runs/{runId}/pnl",
        "/api/strategies/runs/{runId}/positions",
      ].sort(),
    );
    for (const p of paths) {
      const op = doc.paths[p].get;
      expect([p, op.tags, op.security, typeof op.summary]).toEqual([
        p,
        ["strategies"],
        [{ bearerAuth: [] }],
        "string",
      ]);
      expect([p, (op.responses["200"].content["application/json"].schema.examples ?? []).length > 0]).toEqual(
        [p, true],
      );
      expect([p, "422" in op.responses, "401" in op.responses]).toEqual([p, true, true]);
    }
  });
});
