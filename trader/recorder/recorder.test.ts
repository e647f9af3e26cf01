// The recorder on real Postgres with a spool a real paper run wrote (fixtures/paper-run.jsonl: the pytest paper
// node's market maker bought and sold 0.001 BTCUSDT on the sandbox): rows exact, replay idempotent, a torn
// line waits, a bad line is kept aside, and an outage (a TCP proxy cut) loses nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { TcpProxy } from "../../bridge/tcp-proxy-fixture.ts";
import { memoryLogger } from "../../bridge/testing.ts";
import { type FreshDatabase, freshDatabase, waitFor } from "../../lib/testing.ts";
import { applyRecords } from "./apply.ts";
import { TraderRecorder } from "./recorder.ts";
import { parseRecord } from "./records.ts";

const FIXTURE = readFileSync(join(import.meta.dir, "fixtures", "paper-run.jsonl"), "utf8");
const LINES = FIXTURE.trimEnd().split("\n");
const RUN = parseRecord(LINES[0]!).run;

let pg: FreshDatabase;
const dirs: string[] = [];

beforeAll(async () => {
  pg = await freshDatabase({ prefix: "tw_trader_rec" });
});
afterAll(async () => {
  await pg?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function spoolDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tw-trader-spool-"));
  dirs.push(d);
  return d;
}

async function counts() {
  const [c] = await pg.sql<
    { events: number; orders: number; fills: number; positions: number; balances: number }[]
  >`
    SELECT (SELECT count(*)::int FROM trader_events) AS events, (SELECT count(*)::int FROM trader_orders) AS orders,
           (SELECT count(*)::int FROM trader_fills) AS fills, (SELECT count(*)::int FROM trader_positions) AS positions,
           (SELECT count(*)::int FROM trader_balances) AS balances`;
  return c!;
}

async function reset() {
  await pg.sql`TRUNCATE trader_runs CASCADE`;
}

describe("applyRecords", () => {
  test("a real paper run's spool becomes exact rows; applying it again changes nothing", async () => {
    await reset();
    const db = drizzle(pg.sql);
    const records = LINES.map(parseRecord);
    await applyRecords(db, records);
    const first = await counts();
    expect(first.events).toBe(LINES.length);
    const fills = await pg.sql<{ side: string; quantity: string; price: string; trade_id: string }[]>`
      SELECT side, quantity::text, price::text, trade_id FROM trader_fills ORDER BY seq`;
    const spooled = records.filter((r) => r.fill).map((r) => r.fill!);
    expect(fills.map((f) => [f.side, f.quantity, f.price, f.trade_id])).toEqual(
      spooled.map((f) => [f.side, f.quantity, f.price, f.trade_id]),
    );
    expect(fills.map((f) => f.side)).toEqual(["BUY", "SELL"]);
    // Each order row shows its newest event.
    const orders = await pg.sql<{ client_order_id: string; status: string; last_seq: number }[]>`
      SELECT client_order_id, status, last_seq::int FROM trader_orders`;
    for (const o of orders) {
      const last = records.filter((r) => r.order?.client_order_id === o.client_order_id).at(-1)!;
      expect([o.status, o.last_seq]).toEqual([last.order!.status, last.seq]);
    }
    const [pos] = await pg.sql<{ side: string; realized_pnl: string; closed: boolean }[]>`
      SELECT side, realized_pnl::text, closed_at IS NOT NULL AS closed FROM trader_positions`;
    const closed = records.findLast((r) => r.position)!.position!;
    expect(pos).toEqual({ side: closed.side, realized_pnl: closed.realized_pnl, closed: true });
    // The ns stamps survive exactly (as text), the µs timestamps agree with them.
    const [ev] = await pg.sql<{ ts_ns: string; us: string }[]>`
      SELECT ts_ns::text, (extract(epoch FROM time) * 1000000)::bigint::text AS us FROM trader_events WHERE seq = 1`;
    expect(ev!.ts_ns).toBe(records[0]!.ts.toString());
    expect(BigInt(ev!.us)).toBe(records[0]!.ts / 1000n);
    const [run] = await pg.sql<{ last_seq: number; stopped: boolean; strategy_id: string }[]>`
      SELECT last_seq::int, stopped_at IS NOT NULL AS stopped, strategy_id FROM trader_runs`;
    expect(run).toEqual({
      last_seq: records.at(-1)!.seq,
      stopped: true,
      strategy_id: "InventoryMarketMaker-000",
    });

    // Replayed whole, and replayed in an overlapping older slice: nothing doubles, nothing goes back.
    await applyRecords(db, records);
    await applyRecords(db, records.slice(0, 12));
    expect(await counts()).toEqual(first);
    const again = await pg.sql<{ client_order_id: string; status: string }[]>`
      SELECT client_order_id, status FROM trader_orders`;
    expect(new Map(again.map((o) => [o.client_order_id, o.status]))).toEqual(
      new Map(orders.map((o) => [o.client_order_id, o.status])),
    );
  });
});

describe("TraderRecorder", () => {
  test("tails the spool: a torn line waits, a bad line is kept aside, a finished run moves to done/", async () => {
    await reset();
    const dir = spoolDir();
    const log = memoryLogger();
    const rec = new TraderRecorder({ dir, db: drizzle(pg.sql), log, pollMs: 20 });
    const file = join(dir, `${RUN}.jsonl`);
    writeFileSync(file, `${LINES.slice(0, 10).join("\n")}\n${LINES[10]!.slice(0, 40)}`);
    rec.start();
    await waitFor(async () => (await counts()).events === 10, { what: "10 events", timeoutMs: 10_000 });
    expect(rec.stats.pendingBytes).toBe(40);
    appendFileSync(
      file,
      `${LINES[10]!.slice(40)}\n{"run":"${RUN}","seq":"x"}\n${LINES.slice(11).join("\n")}\n`,
    );
    await waitFor(() => rec.stats.runsDone === 1, { what: "the run to finish", timeoutMs: 10_000 });
    await rec.close();
    expect((await counts()).events).toBe(LINES.length);
    expect(rec.stats.rejected).toBe(1);
    expect(existsSync(join(dir, "done", `${RUN}.jsonl`))).toBe(true);
    const rejected = JSON.parse(readFileSync(join(dir, "done", `${RUN}.rejected`), "utf8"));
    expect(rejected.reason).toContain("seq");
    expect(rejected.line).toBe(`{"run":"${RUN}","seq":"x"}`);
    expect(log.lines.some((l) => l.msg === "spool line rejected (kept in .rejected)")).toBe(true);
  });

  test("Postgres down: events wait in the spool and all land once it is back", async () => {
    await reset();
    const proxy = new TcpProxy("127.0.0.1", Number(new URL(pg.url).port || 5432));
    await proxy.start();
    const url = new URL(pg.url);
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {}, connect_timeout: 2 });
    const dir = spoolDir();
    const rec = new TraderRecorder({
      dir,
      db: drizzle(sql),
      log: memoryLogger(),
      pollMs: 20,
      retryMaxMs: 200,
    });
    const file = join(dir, `${RUN}.jsonl`);
    try {
      writeFileSync(file, `${LINES.slice(0, 5).join("\n")}\n`);
      rec.start();
      await waitFor(async () => (await counts()).events === 5, { what: "5 events", timeoutMs: 10_000 });
      await proxy.stop();
      appendFileSync(file, `${LINES.slice(5, 20).join("\n")}\n`);
      await waitFor(() => rec.stats.dbErrors >= 2, { what: "failed writes", timeoutMs: 15_000 });
      expect((await counts()).events).toBe(5);
      expect(rec.stats.pendingBytes).toBeGreaterThan(0);
      appendFileSync(file, `${LINES.slice(20).join("\n")}\n`);
      await proxy.start();
      await waitFor(() => rec.stats.runsDone === 1, { what: "the run after the outage", timeoutMs: 20_000 });
      const c = await counts();
      expect(c.events).toBe(LINES.length);
      expect(c.fills).toBe(2);
      const seqs = await pg.sql<{ seq: number }[]>`SELECT seq::int FROM trader_events ORDER BY seq`;
      expect(seqs.map((r) => r.seq)).toEqual(LINES.map((_, i) => i + 1));
    } finally {
      await rec.close().catch(() => {});
      await sql.end({ timeout: 1 });
      await proxy.stop();
    }
  }, 60_000);
});
