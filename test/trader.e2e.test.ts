// The trader on the real stack: simulator, three collectors, relay, bridge and API (ui/e2e/stack.ts), plus
// `bun trader/main.ts` (NautilusTrader paper node on the relay + the recorder) on a fresh database.
// 1. Its paper fills land in Postgres and come back through the API exactly, and the Strategies page shows them.
// 2. Same data everywhere: over a window, the trade ticks NautilusTrader received (TRADER_TAP_TRADES) equal,
//    frame for frame, what the bridge delivered to a WebSocket client and what the database holds.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { type Msg, TestClient } from "../bridge/testing.ts";
import { waitFor } from "../lib/testing.ts";
import { traderEnvVars } from "../scripts/trader-env.ts";
import { Proc, ROOT, startUiStack, type UiStack } from "../ui/e2e/stack.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const VENV_PYTHON = join(traderEnvVars.read(process.env).venv, "bin", "python");
const inCi = process.env.CI === "true" || process.env.CI === "1";
const runnable = existsSync(VENV_PYTHON) && existsSync(CHROMIUM);
if (!runnable && inCi)
  throw new Error(`trader e2e needs ${VENV_PYTHON} and ${CHROMIUM} (.ci/run makes both)`);
const maybe = runnable ? test : test.skip;

let stack: UiStack;
let trader: Proc;
let client: TestClient;
let dir: string;
let tapPath: string;
let btcUsdt = 0;

const SIDE: Record<string, string> = { BUYER: "buy", SELLER: "sell", NO_AGGRESSOR: "unknown" };
/** "42000.50" and "42000.5" are the same number. */
const dec = (s: string) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);

interface Tick {
  tradeId: string;
  price: string;
  size: string;
  side: string;
  tsRecv: string;
}

beforeAll(async () => {
  if (!runnable) return;
  dir = mkdtempSync(join(tmpdir(), "tw-trader-e2e-"));
  tapPath = join(dir, "tap.txt");
  stack = await startUiStack({ eventsPerSecond: 60 });
  await stack.ready();
  const [row] = await stack.db.sql<{ id: number }[]>`SELECT id FROM instruments WHERE symbol = 'BTC-USDT'`;
  btcUsdt = row!.id;
  client = await TestClient.connect(stack.bridgeUrl);
  const reply = await client.request({
    op: "subscribe",
    exchanges: ["binance"],
    symbols: ["BTC-USDT"],
    kinds: ["trade"],
  });
  expect(reply.type).toBe("subscribed");
  trader = new Proc("trader", ["trader/main.ts"], {
    TAPEWIRE_RELAY_OUT: stack.relayOut,
    DATABASE_URL: stack.db.url,
    TRADER_SPOOL_DIR: join(dir, "spool"),
    TRADER_TAP_TRADES: tapPath,
    TRADER_VENUES: "BINANCE",
    TRADER_INSTRUMENT: "BTC-USDT",
    TRADER_HALF_SPREAD_BPS: "1",
    TRADER_TRADE_SIZE: "0.001",
    TRADER_MAX_INVENTORY: "0.003",
    TRADER_LOG_LEVEL: "WARNING",
  });
  stack.procs.trader = trader; // stopped with the stack
  await trader.waitLog("recording trader events", 30_000);
}, 120_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

maybe(
  "paper fills on the simulated stream land in Postgres and the API, exactly",
  async () => {
    // The market maker quotes 1 bp either side of the mid; the sandbox fills it when the stream trades through.
    const fills = await waitFor(
      async () => {
        if (trader.done) throw new Error(`trader exited: ${trader.tail()}`);
        const rows = await stack.db.sql<
          { trade_id: string; side: string; quantity: string; price: string; run_id: string }[]
        >`SELECT trade_id, side, quantity::text, price::text, run_id FROM trader_fills ORDER BY seq`;
        return rows.length >= 2 ? rows : null;
      },
      { what: "two paper fills in trader_fills", timeoutMs: 150_000, intervalMs: 250 },
    );
    const runId = fills[0]!.run_id;
    const login = await fetch(`${stack.apiUrl}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "quant@example.com", password: "correct horse battery staple" }),
    });
    expect(login.status).toBe(201);
    const tokens = (await (
      await fetch(`${stack.apiUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "quant@example.com", password: "correct horse battery staple" }),
      })
    ).json()) as { accessToken: string };
    const get = async (path: string) => {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        headers: { authorization: `Bearer ${tokens.accessToken}` },
      });
      expect([path, res.status]).toEqual([path, 200]);
      return (await res.json()) as { items: Record<string, string>[] } & Record<string, unknown>;
    };
    const runs = await get("/api/strategies/runs");
    expect(runs.items[0]).toMatchObject({ id: runId, mode: "paper", instruments: ["BTCUSDT.BINANCE"] });
    const api = await get(`/api/strategies/runs/${runId}/fills?limit=1000`);
    const dbNow = await stack.db.sql<{ trade_id: string; side: string; quantity: string; price: string }[]>`
      SELECT trade_id, side, quantity::text, price::text FROM trader_fills WHERE run_id = ${runId} ORDER BY seq DESC`;
    expect(api.items.map((f) => [f.tradeId, f.side, f.quantity, f.price])).toEqual(
      dbNow
        .filter((f) => api.items.some((a) => a.tradeId === f.trade_id))
        .map((f) => [f.trade_id, f.side, f.quantity, f.price]),
    );
    expect(api.items.length).toBeGreaterThanOrEqual(2);
    // A fill is the whole 0.001 order or, against a thinner top of book, part of it (one CI run filled 0.00008).
    const units = (q: string | undefined) => BigInt((q ?? "").replace(".", "")); // fixed 5-decimal text; none = 0
    for (const f of api.items)
      expect([f.tradeId, units(f.quantity) > 0n && units(f.quantity) <= units("0.00100")]).toEqual([
        f.tradeId,
        true,
      ]);
    // Each filled order's row agrees with its fills, to the last unit; the inventory limit held.
    // Two fills may be parts of one order: wait for two whole ones.
    const orders = await waitFor(
      async () => {
        const o = await get(`/api/strategies/runs/${runId}/orders?status=FILLED&limit=1000`);
        return o.items.length >= 2 ? o : null;
      },
      { what: "two FILLED orders", timeoutMs: 150_000, intervalMs: 500 },
    );
    const fillsNow = (await get(`/api/strategies/runs/${runId}/fills?limit=1000`)).items;
    for (const o of orders.items) {
      const filled = fillsNow
        .filter((f) => f.clientOrderId === o.clientOrderId)
        .reduce((sum, f) => sum + units(f.quantity), 0n);
      expect([o.clientOrderId, o.quantity, o.filledQty, filled]).toEqual([
        o.clientOrderId,
        "0.00100",
        "0.00100",
        units("0.00100"),
      ]);
    }
    const positions = await get(`/api/strategies/runs/${runId}/positions`);
    for (const p of positions.items) expect(Math.abs(Number(p.signedQty))).toBeLessThanOrEqual(0.003);
    const pnl = await get(`/api/strategies/runs/${runId}/pnl`);
    expect((pnl.totals as { currency: string }[]).map((t) => t.currency)).toContain("USDT");

    // The Strategies page shows the run's fills and PnL.
    const profile = mkdtempSync(join(tmpdir(), "tw-chromium-"));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--no-first-run",
          "--disable-background-networking",
        ],
        viewport: { width: 1440, height: 900 },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(stack.page("/strategies"));
      await page.fill("input[name=email]", "quant@example.com");
      await page.fill("input[name=password]", "correct horse battery staple");
      await page.click("button:has-text('Log in')");
      await page.waitForSelector(`[data-testid=strategy-run][data-run='${runId}']`, { timeout: 20_000 });
      const first = api.items.at(-1)!; // the oldest fill: on the page from the first poll
      await page.waitForSelector(
        `[data-testid=strategy-fills] tbody tr:has-text('${first.price}'):has-text('${first.side}')`,
        { timeout: 20_000 },
      );
      await page.waitForSelector("[data-testid=strategy-pnl] tbody tr:has-text('USDT')");
      await page.waitForSelector("[data-testid=strategy-orders] tbody tr:has-text('FILLED')");
      await page.waitForSelector("[data-testid=run-state]:has-text('running')");
      expect(await page.getAttribute("nav a[aria-current=page]", "href")).toStartWith("/strategies");
      // Live: a fill recorded after the page loaded appears without a reload.
      const before = await page.$$eval("[data-testid=strategy-fills] tbody tr", (rows) => rows.length);
      const seen = Number((await get(`/api/strategies/runs/${runId}`)).fills);
      await waitFor(async () => Number((await get(`/api/strategies/runs/${runId}`)).fills) > seen, {
        what: "another fill",
        timeoutMs: 120_000,
        intervalMs: 500,
      });
      await page.waitForFunction(
        (n) => document.querySelectorAll("[data-testid=strategy-fills] tbody tr").length > n,
        before,
        { timeout: 15_000 },
      );
      mkdirSync(join(ROOT, ".data", "ui-e2e"), { recursive: true });
      const file = join(ROOT, ".data", "ui-e2e", "ui-strategies.png");
      await page.screenshot({ path: file });
      if (process.env.UI_E2E_DOCS === "1") copyFileSync(file, join(ROOT, "docs", "ui-strategies.png"));
      expect(errors).toEqual([]);
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
    }
  },
  300_000,
);

maybe(
  "same data everywhere: the trader's ticks = the bridge's WebSocket frames = the database's rows, over a window",
  async () => {
    const tap = (): Tick[] =>
      readFileSync(tapPath, "utf8")
        .split("\n")
        .slice(0, -1) // only whole lines: the last piece is "" or a line being written
        .map((l) => {
          const [, tradeId, price, size, aggressor, , tsInit] = l.split(" ") as string[];
          return {
            tradeId: tradeId!,
            price: dec(price!),
            size: dec(size!),
            side: SIDE[aggressor!]!,
            tsRecv: tsInit!,
          };
        });
    const ws = (): Tick[] =>
      client.messages
        .filter((m: Msg) => m.type === "trade" && m.exchange === "binance" && m.symbol === "BTC-USDT")
        .map((m: Msg) => ({
          tradeId: String(m.tradeId),
          price: dec(String(m.price)),
          size: dec(String(m.size)),
          side: String(m.side),
          tsRecv: String(m.tsRecv),
        }));
    // Enough trades on both sides (the first test already ran for a while).
    await waitFor(() => tap().length >= 30 && ws().length >= 30, {
      what: "30 ticks each",
      timeoutMs: 60_000,
    });
    const a = tap();
    const b = ws();
    // The window: from the later first tick to the earlier last one (both saw everything in between).
    const ascending = (x: bigint, y: bigint) => (x < y ? -1 : x > y ? 1 : 0);
    const lo = [a[0]!, b[0]!].map((t) => BigInt(t.tsRecv)).sort(ascending)[1]!;
    const hi = [a.at(-1)!, b.at(-1)!].map((t) => BigInt(t.tsRecv)).sort(ascending)[0]!;
    const inWindow = (t: Tick) => BigInt(t.tsRecv) >= lo && BigInt(t.tsRecv) <= hi;
    const fromTrader = a.filter(inWindow);
    const fromBridge = b.filter(inWindow);
    expect(fromTrader.length).toBeGreaterThanOrEqual(20);
    expect(fromTrader).toEqual(fromBridge);
    // The bridge writes in batches: wait for the window's rows, then compare them in collector order.
    const stored = await waitFor(
      async () => {
        const rows = await stack.db.sql<
          { trade_id: string; price: string; size: string; side: string; recv_ns: string }[]
        >`
          SELECT trade_id::text, price::text, size::text, side, recv_ns::text FROM trades
          WHERE exchange = 3 AND instrument_id = ${btcUsdt} AND recv_ns BETWEEN ${lo.toString()} AND ${hi.toString()}
          ORDER BY seq`;
        return rows.length >= fromTrader.length ? rows : null;
      },
      { what: "the window's rows in the database", timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(
      stored.map((r) => ({
        tradeId: r.trade_id,
        price: dec(r.price),
        size: dec(r.size),
        side: r.side,
        tsRecv: r.recv_ns,
      })),
    ).toEqual(fromTrader);
  },
  120_000,
);
