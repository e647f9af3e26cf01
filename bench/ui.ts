// bun run bench:ui — the dashboard under load, not a test. For each rate: the real stack (sim → 3 collectors →
// relay → bridge, API serving a fresh UI build) with a one-instrument registry (BTC-USDT, listed on all three
// exchanges) so every message reaches the page; headless Chromium on Markets (all exchanges, 1 s candles) and,
// in the same browser, a bare page that only parses and counts the same subscription; a Bun WebSocket client
// counts what the bridge delivers to one client. Sampled every 5 s: messages handled vs delivered, frames per
// second, long-task share of wall time, JS heap.
//   UI_BENCH_RATES=500,2000,5000 (sim events/s per venue)  UI_BENCH_SECONDS=60
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { DEFAULT_INSTRUMENTS } from "../schema/instruments.ts";
import { buildUi, startUiStack } from "../ui/e2e/stack.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const RATES = (process.env.UI_BENCH_RATES ?? "400,1600,4000").split(",").map(Number);
const SECONDS = Number(process.env.UI_BENCH_SECONDS ?? 60);
const SYMBOL = "BTC-USDT";
const SUBSCRIPTIONS = [
  { op: "subscribe", kinds: ["status"] },
  {
    op: "subscribe",
    exchanges: ["kraken", "coinbase", "binance"],
    symbols: [SYMBOL],
    kinds: ["trade", "book", "bbo"],
  },
];

const dir = mkdtempSync(join(tmpdir(), "tw-bench-ui-"));
const registry = join(dir, "instruments.json");
writeFileSync(registry, JSON.stringify(DEFAULT_INSTRUMENTS.filter((i) => i.symbol === SYMBOL)));
process.env.TAPEWIRE_INSTRUMENTS = registry;
const uiDir = join(dir, "ui");
await buildUi(uiDir);

const PROBE = `
  window.__bench = { frames: 0, longTaskMs: 0 };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.longTaskMs += e.duration; })
    .observe({ type: "longtask", buffered: true });
  const tick = () => { window.__bench.frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
`;
const barePage = (url: string) => `<!doctype html><title>bare</title><script>
  window.__count = { messages: 0, trades: 0 };
  const ws = new WebSocket(${JSON.stringify(url)});
  ws.onopen = () => { for (const s of ${JSON.stringify(SUBSCRIPTIONS)}) ws.send(JSON.stringify(s)); };
  ws.onmessage = (e) => {
    const v = JSON.parse(e.data);
    for (const m of Array.isArray(v) ? v : [v]) { window.__count.messages++; if (m.type === "trade") window.__count.trades++; }
  };
</script>`;

interface Sample {
  t: number;
  delivered: number;
  trades: number;
  markets: number;
  bare: number;
  frames: number;
  longTaskMs: number;
  heapMB: number;
  bareFrames: number;
  reconnects: number;
}

async function read(markets: Page, bare: Page) {
  const m = await markets.evaluate(() => {
    const w = window as unknown as {
      __bench: { frames: number; longTaskMs: number };
      __tapewireStream?: { messages: number };
    };
    const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
    const conn = document.querySelector("[data-testid=connection]")?.getAttribute("data-state");
    return { ...w.__bench, handled: w.__tapewireStream?.messages ?? 0, heap: mem?.usedJSHeapSize ?? 0, conn };
  });
  const b = await bare.evaluate(() => {
    const w = window as unknown as { __bench: { frames: number }; __count: { messages: number } };
    return { frames: w.__bench.frames, messages: w.__count.messages };
  });
  return { m, b };
}

async function runRate(browser: Browser, rate: number) {
  const stack = await startUiStack({ eventsPerSecond: rate, uiDir });
  try {
    // The reference: what the bridge delivers to one client with the same subscription.
    const ref = { messages: 0, trades: 0 };
    const ws = new WebSocket(stack.bridgeUrl);
    ws.onopen = () => {
      for (const s of SUBSCRIPTIONS) ws.send(JSON.stringify(s));
    };
    ws.onmessage = (e) => {
      const v = JSON.parse(String(e.data));
      for (const m of Array.isArray(v) ? v : [v]) {
        ref.messages++;
        if (m.type === "trade") ref.trades++;
      }
    };
    const ctxA = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const ctxB = await browser.newContext();
    await ctxA.addInitScript(PROBE);
    await ctxB.addInitScript(PROBE);
    const markets = await ctxA.newPage();
    const bare = await ctxB.newPage();
    await markets.goto(stack.page("/markets", { symbol: SYMBOL, interval: "1s" }));
    await markets.waitForSelector("[data-testid=connection][data-state=open]", { timeout: 20_000 });
    await bare.setContent(barePage(stack.bridgeUrl)); // about:blank: no CSP, nothing but the counter
    // warm-up: the collectors connect and books fill
    await markets.waitForSelector("[data-testid=ladder-binance] tbody.bids tr", { timeout: 30_000 });
    await Bun.sleep(3000);

    const samples: Sample[] = [];
    const start = performance.now();
    const base = { ref: { ...ref }, ...(await read(markets, bare)) };
    for (let i = 1; i <= SECONDS / 5; i++) {
      await Bun.sleep(start + i * 5000 - performance.now());
      const { m, b } = await read(markets, bare);
      samples.push({
        t: (performance.now() - start) / 1000,
        delivered: ref.messages - base.ref.messages,
        trades: ref.trades - base.ref.trades,
        markets: m.handled - base.m.handled,
        bare: b.messages - base.b.messages,
        frames: m.frames - base.m.frames,
        longTaskMs: m.longTaskMs - base.m.longTaskMs,
        heapMB: m.heap / 2 ** 20,
        bareFrames: b.frames - base.b.frames,
        reconnects: m.conn === "open" ? 0 : 1,
      });
    }
    ws.close();
    await ctxA.close();
    await ctxB.close();
    const last = samples.at(-1)!;
    const s = last.t;
    const heaps = samples.map((x) => x.heapMB);
    return {
      rate,
      seconds: Math.round(s),
      tradesPerS: Math.round(last.trades / s),
      deliveredPerS: Math.round(last.delivered / s),
      marketsPerS: Math.round(last.markets / s),
      barePerS: Math.round(last.bare / s),
      marketsShare: last.delivered ? +(last.markets / last.delivered).toFixed(4) : 0,
      fps: +(last.frames / s).toFixed(1),
      bareFps: +(last.bareFrames / s).toFixed(1),
      longTaskPct: +((100 * last.longTaskMs) / (s * 1000)).toFixed(1),
      heapMB: heaps.map((h) => +h.toFixed(1)),
      disconnectedSamples: samples.filter((x) => x.reconnects).length,
    };
  } finally {
    await stack.stop();
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-precise-memory-info",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
  ],
});
const results = [];
try {
  for (const rate of RATES) {
    const r = await runRate(browser, rate);
    console.log(JSON.stringify(r));
    results.push(r);
  }
} finally {
  await browser.close();
}
console.log(
  "\n| sim events/s/venue | trades/s | delivered msgs/s | Markets handled/s | share | bare handled/s | fps | bare fps | long tasks % | heap MB (first→last) |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const r of results)
  console.log(
    `| ${r.rate} | ${r.tradesPerS} | ${r.deliveredPerS} | ${r.marketsPerS} | ${r.marketsShare} | ${r.barePerS} | ${r.fps} | ${r.bareFps} | ${r.longTaskPct} | ${r.heapMB[0]}→${r.heapMB.at(-1)} |`,
  );
