// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against the real stack started
// here: simulator, three collectors, relay, bridge, API serving a fresh UI build, on a fresh database and the
// machine's Redis. Screenshots go to .data/ui-e2e/ (UI_E2E_DOCS=1 also copies them to docs/ui-*.png).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { ROOT, startUiStack, type UiStack } from "../ui/e2e/stack.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const OUT = process.env.UI_E2E_OUT ?? join(ROOT, ".data", "ui-e2e");
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let stack: UiStack;
let context: BrowserContext;
let page: Page;
let profile: string;
let stackStarted = 0;
const pageErrors: string[] = [];

async function shot(name: string): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `ui-${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  if (process.env.UI_E2E_DOCS === "1") copyFileSync(file, join(ROOT, "docs", `ui-${name}.png`));
}

interface Bucket {
  start: number;
  trades: number;
  volume: string;
}
/** Exact decimal text → its integer mantissa at `decimals`, as text (the UI's candle volume). */
function mantissa(text: string, decimals: number): string {
  const [int, frac = ""] = text.split(".");
  return BigInt(int + frac.padEnd(decimals, "0").slice(0, decimals)).toString();
}

const recent = async (exchange: string): Promise<Bucket[]> =>
  JSON.parse((await page.getAttribute(`[data-testid=chart-${exchange}]`, "data-recent")) ?? "[]");

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  stackStarted = Date.now();
  stack = await startUiStack();
  await stack.ready();
  profile = mkdtempSync(join(tmpdir(), "tw-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => pageErrors.push(e.message));
}, 90_000);

afterAll(async () => {
  await context?.close();
  await stack?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
}, 30_000);

test("markets: candles, trades and ladders tick for BTC-USD on every exchange listing it, exact at the seam", async () => {
  await page.goto(stack.page("/markets", { symbol: "BTC-USD", interval: "1s" }));
  await page.waitForSelector("[data-testid=connection][data-state=open]", { timeout: 15_000 });
  const exchanges = ["kraken", "coinbase"]; // the registry lists BTC-USD on these two (Binance has BTC-USDT)
  for (const ex of exchanges) {
    await page.waitForSelector(`[data-testid=ladder-${ex}] tbody.bids tr:nth-child(5)`, { timeout: 20_000 });
    await page.waitForSelector(`[data-testid=ladder-${ex}] tbody.asks tr:nth-child(5)`, { timeout: 5_000 });
    await page.waitForSelector(`[data-testid=tape] tr[data-exchange=${ex}]`, { timeout: 20_000 });
    await page.waitForSelector(`[data-testid=chart-${ex}][data-live=true]`, { timeout: 20_000 });
  }
  // Exact decimal strings on the tape: no exponent, no float noise.
  for (const price of await page.$$eval("[data-testid=tape] tbody td:nth-child(4)", (tds) =>
    tds.map((t) => t.textContent ?? ""),
  ))
    expect(price).toMatch(/^\d+(\.\d{1,2})?$/);

  // Candles keep ticking live, and a closed 1 s bucket after the seam equals the API's (no gap, no double count).
  for (const ex of exchanges) {
    const first = await recent(ex);
    await page.waitForFunction(
      ([sel, start]) => {
        const r = JSON.parse(document.querySelector(sel!)?.getAttribute("data-recent") ?? "[]");
        return r.length > 0 && r[r.length - 1].start > Number(start) + 2000;
      },
      [`[data-testid=chart-${ex}]`, String(first.at(-1)?.start ?? 0)],
      { timeout: 20_000 },
    );
    const buckets = await recent(ex);
    const closed = buckets.filter((b) => b.start < buckets.at(-1)!.start);
    expect(closed.length).toBeGreaterThan(0);
    for (const b of closed) {
      const q = new URLSearchParams({
        symbol: "BTC-USD",
        exchange: ex,
        interval: "1s",
        from: new Date(b.start).toISOString(),
        to: new Date(b.start + 1000).toISOString(),
      });
      // The bridge stores trades in batches (~100 ms, longer on a busy machine): wait for the bucket to settle.
      const fromApi = async () => {
        const r = (await (await fetch(`${stack.apiUrl}/api/market/candles?${q}`)).json()) as {
          candles: { trades: number; volume: string }[];
        };
        const row = r.candles[0];
        return {
          ex,
          start: b.start,
          trades: row?.trades ?? 0,
          volume: row ? mantissa(row.volume, 8) : "none",
        };
      };
      const want = { ex, start: b.start, trades: b.trades, volume: b.volume };
      let got = await fromApi();
      for (
        const end = Date.now() + 10_000;
        JSON.stringify(got) !== JSON.stringify(want) && Date.now() < end;
      ) {
        await Bun.sleep(250);
        got = await fromApi();
      }
      expect(want).toEqual(got);
    }
  }
  await shot("markets");

  // All three exchanges side by side on an instrument every one of them lists.
  await page.selectOption("select[name=symbol]", "BTC-USDT");
  for (const ex of ["kraken", "coinbase", "binance"]) {
    await page.waitForSelector(`[data-testid=ladder-${ex}] tbody.bids tr:nth-child(3)`, { timeout: 20_000 });
    await page.waitForSelector(`[data-testid=tape] tr[data-exchange=${ex}]`, { timeout: 20_000 });
    await page.waitForSelector(`[data-testid=chart-${ex}][data-bars]`, { timeout: 20_000 });
  }
  await page.waitForFunction(() =>
    /^-?\d/.test(document.querySelector("[data-testid=cross-spread]")?.textContent ?? ""),
  );
  expect(pageErrors).toEqual([]);
}, 60_000);

test("feeds: a Kraken checksum fault shows as resyncing, with a banner, then recovers", async () => {
  await page.goto(stack.page("/feeds"));
  const row = '[data-feed="kraken|BTC-USD"]';
  await page.waitForSelector(`${row}[data-state=connected]`, { timeout: 20_000 });
  // Record every state the row shows (the resync may last only a few frames).
  await page.evaluate((sel) => {
    const w = window as unknown as { states: string[] };
    w.states = [];
    const el = document.querySelector(sel)!;
    new MutationObserver(() => w.states.push(el.getAttribute("data-state") ?? "")).observe(el, {
      attributes: true,
      attributeFilter: ["data-state"],
    });
  }, row);
  const r = await fetch(`${stack.simUrl}/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ venue: "kraken", fault: "corrupt-checksum", symbol: "BTC/USD" }),
  });
  expect(r.status).toBeLessThan(300);
  await page.waitForFunction(
    () => (window as unknown as { states: string[] }).states.includes("resyncing"),
    null,
    {
      timeout: 20_000,
    },
  );
  await page.waitForSelector("[data-testid=feed-banner]:has-text('book_resync')", { timeout: 5_000 });
  await page.waitForSelector(`${row}[data-state=connected]`, { timeout: 20_000 });
  expect(Number(await page.textContent(`${row} td:nth-child(9)`))).toBeGreaterThanOrEqual(1);
  await page.waitForSelector("[data-testid=timeline] li:has-text('book_resync'):has-text('checksum')");
  await page.waitForFunction(
    (sel) => Number(document.querySelector(`${sel} td:nth-child(5)`)?.textContent) > 0,
    row,
  );
  await shot("feeds");
}, 60_000);

test(
  "portfolio: register, log in, a paper market order fills into fills, positions and PnL; reload keeps the session",
  async () => {
    await page.goto(stack.page("/portfolio"));
    const email = `ui-${crypto.randomUUID().slice(0, 8)}@example.com`;
    await page.fill("input[name=email]", email);
    await page.fill("input[name=password]", "correct horse battery staple");
    await page.click("button:has-text('Register')");
    await page.waitForSelector(`[data-testid=user-email]:has-text('${email}')`, { timeout: 15_000 });
    await page.click("button:has-text('Create portfolio')");
    await page.waitForSelector("select[name=portfolio] option", { state: "attached", timeout: 20_000 });

    await page.selectOption("select[name=ticket-symbol]", "BTC-USD");
    await page.selectOption("select[name=ticket-exchange]", "coinbase");
    await page.fill("input[name=quantity]", "0.01");
    await page.waitForFunction(() =>
      /^at ask \d/.test(document.querySelector("[data-testid=ticket-estimate]")?.textContent ?? ""),
    );
    await page.click(".ticket button[type=submit]");
    const outcome = await page.waitForSelector("[data-testid=ticket-result], [data-testid=ticket-error]", {
      timeout: 15_000,
    });
    // A market order is immediate-or-cancel against the visible top of book: all or part of it fills.
    const text = (await outcome.textContent()) ?? "";
    const filled = /^filled (\d+(?:\.\d+)?) (?:of 0\.01 )?at \d+(?:\.\d+)?/.exec(text)?.[1];
    expect({ text, filled: filled !== undefined }).toEqual({ text, filled: true });
    // A market order walks the visible book: one order may be several fills (one per level), so the fills
    // table gets coinbase rows and the position holds their sum.
    await page.waitForSelector("[data-testid=fills] tbody tr:has-text('coinbase')", { timeout: 20_000 });
    await page.waitForSelector(`[data-testid=positions] tbody tr:has-text('BTC-USD'):has-text('${filled}')`);
    await page.waitForSelector("[data-testid=positions] tbody tr .badge:has-text('live')", {
      timeout: 15_000,
    });
    const pnl = await page.textContent("[data-testid=pnl] tbody tr");
    expect(pnl).toMatch(/^USD/);
    await shot("portfolio");

    // An API error is shown as the API words it.
    await page.fill("input[name=quantity]", "0.000000001");
    await page.click(".ticket button[type=submit]");
    const error = await (await page.waitForSelector("[data-testid=ticket-error]")).textContent();
    expect(error).toContain("quantity");

    // No token in storage; the refresh cookie brings the session back after a reload.
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(storage).not.toMatch(/eyJ|rt1\./);
    await page.reload();
    await page.waitForSelector(`[data-testid=user-email]:has-text('${email}')`, { timeout: 15_000 });
    await page.waitForSelector("[data-testid=fills] tbody tr:has-text('coinbase')");

    // Keyboard only: the theme switch and the page links are reachable and work; then a phone-sized screen.
    await page.focus("button.theme");
    await page.keyboard.press("Enter");
    expect(await page.getAttribute("html", "data-theme")).toBe("dark");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.focus("nav a:has-text('Markets')");
    await page.keyboard.press("Enter");
    await page.waitForSelector("nav a[aria-current=page]:has-text('Markets')");
    await page.waitForSelector("[data-testid=ladder-coinbase] tbody.bids tr:nth-child(3)", {
      timeout: 20_000,
    });
    await page.evaluate(() => scrollTo(0, 0));
    // Every page link is on screen at phone width (the nav once ran off the right edge, "Backtests" cut).
    const offScreen = await page.$$eval("nav a", (links) =>
      links.filter((a) => a.getBoundingClientRect().right > innerWidth).map((a) => a.textContent),
    );
    expect(offScreen).toEqual([]);
    await shot("phone-dark");
    expect(pageErrors).toEqual([]);
  },
  { timeout: 60_000, retry: 1 },
); // a real browser on a loaded CI machine: one retry

test(
  "backtests: the stack's stored tape archived, a market-making backtest started from the page, stats, fills and equity shown",
  async () => {
    // What the bridge stored so far, exported by the real archiver into the API's ARCHIVE_DIR.
    const t = Date.now();
    const step = (what: string) => console.error(`[backtests e2e] ${what} at +${Date.now() - t} ms`);
    const archived = Bun.spawn(
      [
        "bun",
        "api/backtests/archive-db-fixture.ts",
        JSON.stringify({
          databaseUrl: stack.db.url,
          root: stack.archiveDir,
          now: new Date(Date.now() + 2 * 3_600_000).toISOString(),
        }),
      ],
      { cwd: ROOT, env: { ...process.env, DEBUG_ARCHIVE_KIT: "1" }, stdout: "pipe", stderr: "pipe" },
    );
    const [code, out, err] = await Promise.all([
      archived.exited,
      new Response(archived.stdout).text(),
      new Response(archived.stderr).text(),
    ]);
    if (code !== 0) throw new Error(`archiving the stack's database failed (${code}): ${err.slice(-3000)}`);
    const manifest: { dataset: string; exchange: number }[] = JSON.parse(
      out.trim().split("\n").at(-1)!,
    ).manifest;
    step(`archived ${manifest.length} partitions`);
    expect(manifest.some((m) => m.dataset === "book_changes" && m.exchange === 3)).toBe(true);
    const to = new Date().toISOString();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(stack.page("/backtests"));
    await page.waitForSelector("input[name=from], input[name=email]", { timeout: 15_000 });
    if (await page.$("input[name=email]")) {
      await page.fill("input[name=email]", `bt-${crypto.randomUUID().slice(0, 8)}@example.com`);
      await page.fill("input[name=password]", "correct horse battery staple");
      await page.click("button:has-text('Register')");
      await page.waitForSelector("input[name=from]", { timeout: 15_000 });
    }
    if ((await page.getAttribute("html", "data-theme")) === "dark") await page.click("button.theme");
    await page.fill("input[name=from]", new Date(stackStarted - 60_000).toISOString());
    await page.fill("input[name=to]", to);
    await page.fill("input[name=bps]", "1");
    await page.click("button:has-text('Run backtest')");
    step("started");
    await page.waitForSelector("[data-testid=backtest-status]", { timeout: 20_000 });
    step(`status ${await page.getAttribute("[data-testid=backtest-status]", "data-status")}`);
    await page.waitForSelector("[data-testid=backtest-status][data-status=done]", { timeout: 150_000 });
    step("done");
    const stats = (await page.textContent("[data-testid=backtest-stats]")) ?? "";
    expect(stats).toMatch(/net PnL-?\d+(\.\d+)? USDT/);
    const points = Number(await page.getAttribute("[data-testid=equity-chart]", "data-points"));
    expect(points).toBeGreaterThan(0);
    await page.waitForSelector("[data-testid=backtest-runs] tbody tr:has-text('done')");
    await shot("backtests");

    // A window the archive does not hold is refused as the API words it.
    await page.fill("input[name=from]", "2020-01-01T00:00:00Z");
    await page.fill("input[name=to]", "2020-01-02T00:00:00Z");
    await page.click("button:has-text('Run backtest')");
    expect(await (await page.waitForSelector("[data-testid=backtest-error]")).textContent()).toContain(
      "archive holds no",
    );
    expect(pageErrors).toEqual([]);
  },
  { timeout: 200_000 },
);
