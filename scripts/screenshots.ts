// `bun run screenshots [URL]`: fresh docs/ui-<page>.png of every dashboard page (1440×900) and
// docs/ui-phone-dark.png (390×844, dark colour scheme), taken from a real `bun run dev` session by Debian's
// Chromium through playwright-core, the way test/ui.e2e.test.ts drives it. Nothing is downloaded.
// Without a URL it starts `bun run dev` itself on free ports with everything it writes (embedded Postgres,
// journal, spool, archive, UI build) in a temporary folder, and stops it (and all its children) at the end.
// With a URL (argument or SCREENSHOTS_URL) it uses that running API; SCREENSHOTS_BRIDGE=ws://…/ws points the
// pages at a bridge that is not on port 8080. Every wait is for what the page shows, never a fixed sleep.
// The pictures are written only once all of them are taken (SCREENSHOTS_OUT, default docs/).
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RedisClient, type Subprocess } from "bun";
import { type BrowserContext, chromium, type Page } from "playwright-core";

const ROOT = resolve(import.meta.dir, "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const OUT = process.env.SCREENSHOTS_OUT ?? join(ROOT, "docs");
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"];
const PASSWORD = "correct horse battery staple";
const say = (line: string) => console.log(`[screenshots] ${line}`);

interface Target {
  api: string;
  /** Our own session's ARCHIVE_DIR (unknown for a running one). */
  archiveDir?: string;
  /** ?bridge= for every page (empty: the UI's default, port 8080 of the page's host). */
  bridge: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = s;
  s.stop(true);
  return port;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== null) return got;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await Bun.sleep(250); // a poll interval, not a wait for time to pass
  }
}

/** `bun run dev` in its own process group, every port free and every path under `dir`. */
async function startDev(dir: string): Promise<Target> {
  const [pg, sim, api, bridge] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const prefix = `tw-shots-${crypto.randomUUID().slice(0, 8)}:`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: undefined, // dev starts its embedded Postgres only without one
    MARKET_SOURCE: undefined,
    NO_COLOR: "1",
    TAPEWIRE_PG_DIR: join(dir, "pg"),
    TAPEWIRE_PG_PORT: String(pg),
    SIM_PORT: String(sim),
    API_PORT: String(api),
    BRIDGE_PORT: String(bridge),
    ...Object.fromEntries(
      ["RELAY", "BRIDGE", "ARCHIVER", "COLLECTOR_KRAKEN", "COLLECTOR_COINBASE", "COLLECTOR_BINANCE"].map(
        (p) => [`${p}_METRICS_PORT`, "0"],
      ),
    ),
    TAPEWIRE_RELAY_IN: join(dir, "run", "in.sock"),
    TAPEWIRE_RELAY_OUT: join(dir, "run", "out.sock"),
    TAPEWIRE_JOURNAL_DIR: join(dir, "journal"),
    BRIDGE_SPOOL_DIR: join(dir, "spool"),
    TRADER_SPOOL_DIR: join(dir, "trader-spool"),
    ARCHIVE_DIR: join(dir, "archive"),
    ARCHIVE_CACHE_DIR: join(dir, "archive-cache"),
    // Minute partitions, looked for every 5 s, so a backtest has an archive a minute or two after start.
    ARCHIVE_INTERVAL: "60",
    ARCHIVE_CHECK_INTERVAL: "5s",
    // The paper market maker quotes 1 bp either side (as the e2e tests do), so it fills within minutes.
    TRADER_HALF_SPREAD_BPS: process.env.TRADER_HALF_SPREAD_BPS ?? "1",
    JWT_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex"),
    API_REDIS_PREFIX: prefix,
    UI_OUT_DIR: join(dir, "ui"),
    API_UI_DIR: join(dir, "ui"),
  };
  mkdirSync(join(dir, "run"), { recursive: true });
  chmodSync(dir, 0o711); // the embedded Postgres runs as user postgres when we are root: it must reach dir/pg
  const log = join(dir, "dev.log");
  say(`starting bun run dev (API :${api}, bridge :${bridge}, sim :${sim}, Postgres :${pg}), log ${log}`);
  const proc: Subprocess = Bun.spawn(["bun", "run", "dev"], {
    cwd: ROOT,
    env,
    detached: true, // its own process group: stopped as a terminal's Ctrl-C stops it
    stdin: "ignore",
    stdout: Bun.file(log),
    stderr: Bun.file(log),
  });
  const tail = () => readFileSync(log, "utf8").split("\n").slice(-40).join("\n");
  const stop = async () => {
    const group = -proc.pid;
    /** Signal the whole group; false once no process of it is left (ESRCH). */
    const signal = (s: NodeJS.Signals | 0) => {
      try {
        process.kill(group, s);
        return true;
      } catch {
        return false;
      }
    };
    signal("SIGINT"); // what a terminal's Ctrl-C sends: dev stops its processes, then its Postgres
    // dev exits once its processes and its Postgres have stopped (its own grace is DEV_STOP_GRACE_MS, 10 s).
    const gone = () => until("the dev process group to exit", 40_000, async () => (signal(0) ? null : true));
    await gone().catch(async () => {
      say("dev's process group did not exit within 40 s: SIGKILL");
      signal("SIGKILL");
      await gone();
    });
    await proc.exited;
    await dropRedisKeys(prefix);
    say(`dev stopped (exit ${proc.exitCode ?? proc.signalCode})`);
  };
  const base = `http://127.0.0.1:${api}`;
  try {
    await until("the API to be ready and serve the dashboard", 240_000, async () => {
      if (proc.exitCode !== null) throw new Error(`bun run dev exited (${proc.exitCode}):\n${tail()}`);
      const ready = await fetch(`${base}/ready`).catch(() => null);
      const page = ready?.ok ? await fetch(`${base}/`).catch(() => null) : null;
      return page?.headers.get("content-type")?.startsWith("text/html") ? true : null;
    });
  } catch (error) {
    console.error(tail());
    await stop();
    throw error;
  }
  return { api: base, bridge: `ws://127.0.0.1:${bridge}/ws`, archiveDir: join(dir, "archive"), stop };
}

/** The API's keys of this session (its refresh sessions, cache, rate limits) leave the shared Redis with it. */
async function dropRedisKeys(prefix: string): Promise<void> {
  const redis = new RedisClient(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  try {
    let cursor = "0";
    do {
      const [next, keys] = (await redis.send("SCAN", [cursor, "MATCH", `${prefix}*`, "COUNT", "1000"])) as [
        string,
        string[],
      ];
      if (keys.length > 0) await redis.send("DEL", keys);
      cursor = next;
    } while (cursor !== "0");
  } catch (error) {
    say(`could not remove the Redis keys ${prefix}*: ${(error as Error).message}`);
  } finally {
    redis.close();
  }
}

const text = (page: Page, sel: string) => page.textContent(sel).then((t) => t ?? "");

async function markets(page: Page, url: (path: string, q?: Record<string, string>) => string) {
  await page.goto(url("/markets", { symbol: "BTC-USD", interval: "1s" }));
  await page.waitForSelector("[data-testid=connection][data-state=open]", { timeout: 30_000 });
  for (const ex of ["kraken", "coinbase"]) {
    await page.waitForSelector(`[data-testid=ladder-${ex}] tbody.bids tr:nth-child(10)`, { timeout: 60_000 });
    await page.waitForSelector(`[data-testid=ladder-${ex}] tbody.asks tr:nth-child(10)`, { timeout: 60_000 });
    await page.waitForSelector(`[data-testid=tape] tr[data-exchange=${ex}]`, { timeout: 60_000 });
    await page.waitForSelector(`[data-testid=chart-${ex}][data-live=true]`, { timeout: 60_000 });
  }
  // Enough 1 s candles that the charts are more than a few bars.
  await page.waitForFunction(
    () =>
      ["kraken", "coinbase"].every(
        (ex) => Number(document.querySelector(`[data-testid=chart-${ex}]`)?.getAttribute("data-bars")) >= 40,
      ),
    null,
    { timeout: 120_000 },
  );
  await page.waitForSelector("[data-testid=tape] tbody tr:nth-child(8)");
}

async function feeds(page: Page, url: (path: string) => string) {
  await page.goto(url("/feeds"));
  // Every feed of every exchange connected and ticking, and the timeline holding the feed events.
  await page.waitForFunction(
    () => {
      const rows = Array.from(document.querySelectorAll("[data-testid=feeds-table] tbody tr"));
      const exchanges = new Set(rows.map((r) => r.getAttribute("data-feed")?.split("|")[0]));
      return (
        exchanges.size === 3 &&
        rows.every(
          (r) =>
            r.getAttribute("data-state") === "connected" &&
            Number(r.querySelector("td:nth-child(5)")?.textContent) > 0,
        ) &&
        ["kraken", "coinbase", "binance"].every((x) =>
          document.querySelector(`[data-testid=conn-${x}]`)?.textContent?.includes(" connected"),
        ) &&
        document.querySelectorAll("[data-testid=timeline] li").length > 0
      );
    },
    null,
    { timeout: 90_000 },
  );
}

/** Register on the Portfolio page, make a portfolio and buy 0.01 BTC-USD on Coinbase at market. */
async function portfolio(page: Page, url: (path: string) => string) {
  await page.goto(url("/portfolio"));
  const email = `screenshots-${crypto.randomUUID().slice(0, 8)}@example.com`;
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("button:has-text('Register')");
  await page.waitForSelector(`[data-testid=user-email]:has-text('${email}')`, { timeout: 30_000 });
  await page.click("button:has-text('Create portfolio')");
  await page.waitForSelector("select[name=portfolio] option", { state: "attached", timeout: 30_000 });
  await page.selectOption("select[name=ticket-symbol]", "BTC-USD");
  await page.selectOption("select[name=ticket-exchange]", "coinbase");
  await page.fill("input[name=quantity]", "0.01");
  await page.waitForFunction(
    () => /^at ask \d/.test(document.querySelector("[data-testid=ticket-estimate]")?.textContent ?? ""),
    null,
    { timeout: 30_000 },
  );
  await page.click(".ticket button[type=submit]");
  const outcome = await page.waitForSelector("[data-testid=ticket-result], [data-testid=ticket-error]", {
    timeout: 30_000,
  });
  const result = (await outcome.textContent()) ?? "";
  if (!/^filled /.test(result)) throw new Error(`the paper market order did not fill: ${result}`);
  await page.waitForSelector("[data-testid=fills] tbody tr:has-text('coinbase')", { timeout: 30_000 });
  await page.waitForSelector("[data-testid=positions] tbody tr:has-text('BTC-USD')", { timeout: 30_000 });
  await page.waitForSelector("[data-testid=positions] tbody tr .badge:has-text('live')", { timeout: 30_000 });
  await page.waitForSelector("[data-testid=pnl] tbody tr:has-text('USD')", { timeout: 30_000 });
  say(`portfolio: ${result}`);
}

/** The dev trader's paper run: its PnL, orders and fills (the fills come when the stream trades through). */
async function strategies(page: Page, url: (path: string) => string): Promise<string> {
  await page.goto(url("/strategies"));
  try {
    await page.waitForSelector("[data-testid=strategy-run]", { timeout: 240_000 }); // Python's start is slow
  } catch {
    await page.waitForSelector("text=No trader runs yet");
    return "no trader run within 4 minutes (TAPEWIRE_TRADER=off or no Python?): the page's empty state";
  }
  await page.waitForSelector("[data-testid=run-state]:has-text('running')");
  await page.waitForSelector("[data-testid=strategy-orders] tbody tr", { timeout: 120_000 });
  try {
    await page.waitForSelector("[data-testid=strategy-fills] tbody tr:nth-child(2)", { timeout: 300_000 });
    await page.waitForSelector("[data-testid=strategy-pnl] tbody tr", { timeout: 30_000 });
  } catch {
    return "running, orders on the book but fewer than two fills within 5 minutes";
  }
  return text(page, "#run-title + p").then((t) => t.replace(/\s+/g, " ").trim());
}

/** A market-making backtest over the archive's last hour, started from the page, run to the end. */
async function backtests(page: Page, url: (path: string) => string, archiveDir?: string): Promise<string> {
  // Our own dev session archives minute partitions: wait for two minutes of Binance's tape and book.
  if (archiveDir)
    await until("two archived minutes of Binance", 300_000, async () => {
      const count = (dataset: string) => {
        try {
          return [...new Bun.Glob(`${dataset}/exchange=binance/**/*.parquet`).scanSync(archiveDir)].length;
        } catch {
          return 0; // the archive folder is made with its first export
        }
      };
      return count("trades") >= 2 && count("book_changes") >= 2 ? true : null;
    });
  await page.goto(url("/backtests"));
  await page.waitForSelector("input[name=from]", { timeout: 30_000 });
  await page.fill("input[name=bps]", "1");
  await page.click("button:has-text('Run backtest')");
  await page.waitForSelector("[data-testid=backtest-status], [data-testid=backtest-error]", {
    timeout: 30_000,
  });
  if (await page.$("[data-testid=backtest-error]"))
    throw new Error(`backtest refused: ${await text(page, "[data-testid=backtest-error]")}`);
  await page.waitForSelector("[data-testid=backtest-status]", { timeout: 30_000 });
  await page.waitForSelector(
    "[data-testid=backtest-status][data-status=done], [data-testid=backtest-status][data-status=failed]",
    { timeout: 300_000 },
  );
  if ((await page.getAttribute("[data-testid=backtest-status]", "data-status")) === "failed")
    throw new Error(`the backtest failed: ${await text(page, "[data-testid=backtest-failure]")}`);
  await page.waitForFunction(
    () => Number(document.querySelector("[data-testid=equity-chart]")?.getAttribute("data-points")) > 0,
  );
  await page.waitForSelector("[data-testid=backtest-runs] tbody tr:has-text('done')", { timeout: 30_000 });
  return (await text(page, "[data-testid=backtest-stats]")).replace(/\s+/g, " ").slice(0, 200);
}

async function phone(context: BrowserContext, url: (path: string, q?: Record<string, string>) => string) {
  const page = await context.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(url("/markets", { interval: "1s" }));
  await page.waitForSelector("html[data-theme=dark]");
  await page.waitForSelector("[data-testid=connection][data-state=open]", { timeout: 30_000 });
  await page.waitForSelector("[data-testid=ladder-kraken] tbody.bids tr:nth-child(3)", { timeout: 60_000 });
  await page.waitForSelector("[data-testid=chart-kraken][data-live=true]", { timeout: 60_000 });
  await page.waitForFunction(
    () => Number(document.querySelector("[data-testid=chart-kraken]")?.getAttribute("data-bars")) >= 30,
    null,
    { timeout: 60_000 },
  );
  await page.evaluate(() => scrollTo(0, 0));
  return page;
}

async function main(): Promise<void> {
  const given = process.argv[2] ?? process.env.SCREENSHOTS_URL;
  const dir = mkdtempSync(join(tmpdir(), "tw-shots-"));
  const shots = join(dir, "shots");
  mkdirSync(shots);
  let target: Target | null = null;
  let context: BrowserContext | null = null;
  let interrupted = false;
  const cleanup = async () => {
    await context?.close().catch(() => {});
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  for (const s of ["SIGINT", "SIGTERM"] as const)
    process.on(s, () => {
      if (interrupted) return;
      interrupted = true;
      say(`${s}: stopping`);
      void cleanup().then(() => process.exit(130));
    });
  try {
    target = given
      ? { api: given.replace(/\/+$/, ""), bridge: process.env.SCREENSHOTS_BRIDGE ?? "", stop: async () => {} }
      : await startDev(dir);
    const { api, bridge } = target;
    const url = (path: string, q: Record<string, string> = {}) =>
      `${api}${path}?${new URLSearchParams({ ...(bridge ? { bridge } : {}), ...q })}`;
    context = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1440, height: 900 },
      colorScheme: "light",
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const shot = async (p: Page, name: string, note = "") => {
      await p.screenshot({ path: join(shots, `ui-${name}.png`) });
      say(`ui-${name}.png${note ? `: ${note}` : ""}`);
    };
    await markets(page, url);
    await shot(page, "markets", "BTC-USD 1 s candles, ladders and tape on Kraken and Coinbase");
    await feeds(page, url);
    await shot(page, "feeds", "every feed connected");
    await portfolio(page, url);
    await shot(page, "portfolio");
    await shot(page, "strategies", await strategies(page, url));
    await shot(page, "backtests", await backtests(page, url, target.archiveDir));
    const small = await phone(context, url);
    small.on("pageerror", (e) => errors.push(e.message));
    await shot(small, "phone-dark", "Markets (BTC-USD, 1 s), 390×844, dark colour scheme");
    if (errors.length > 0) throw new Error(`the pages threw: ${errors.join("; ")}`);
    mkdirSync(OUT, { recursive: true });
    for (const name of ["markets", "feeds", "portfolio", "strategies", "backtests", "phone-dark"])
      copyFileSync(join(shots, `ui-${name}.png`), join(OUT, `ui-${name}.png`));
    say(`wrote ${OUT}/ui-{markets,feeds,portfolio,strategies,backtests,phone-dark}.png`);
  } finally {
    if (!interrupted) await cleanup();
  }
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(`screenshots: ${(error as Error).stack ?? error}`);
      process.exit(1);
    },
  );
}
