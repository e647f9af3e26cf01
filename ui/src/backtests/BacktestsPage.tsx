/** @jsxImportSource solid-js */
// Backtests: start a NautilusTrader backtest over a window of the Parquet archive, follow it as a job, and see
// its statistics, equity curve, fills, orders and positions.
import { createSignal, For, Show } from "solid-js";
import { restoring, user } from "../app/auth.ts";
import { errorText } from "../lib/api.ts";
import { type Column, DataTable, sideClass } from "../lib/DataTable.tsx";
import { AuthForm } from "../portfolio/AuthForm.tsx";
import {
  type BacktestDetail,
  type BacktestRun,
  createBacktest,
  createBacktests,
} from "./create-backtests.ts";
import { EquityChart } from "./EquityChart.tsx";
import { defaultWindow } from "./equity.ts";

export function BacktestsPage() {
  return (
    <main class="page backtests" aria-labelledby="backtests-title">
      <h1 id="backtests-title">Backtests</h1>
      <Show when={!restoring()} fallback={<p class="muted">restoring your session…</p>}>
        <Show when={user()} fallback={<AuthForm />}>
          <Backtests />
        </Show>
      </Show>
    </main>
  );
}

function Backtests() {
  const list = createBacktests();
  const [selected, setSelected] = createSignal<string | null>(null);
  const current = () => selected() ?? list.runs()[0]?.id ?? null;
  const columns: Column<BacktestRun>[] = [
    {
      header: "run",
      cell: (r) => (
        <button
          type="button"
          class="link"
          onClick={() => setSelected(r.id)}
          aria-pressed={current() === r.id}
        >
          {r.createdAt.slice(0, 19)}Z
        </button>
      ),
    },
    { header: "strategy", cell: (r) => r.strategy },
    { header: "instrument", cell: (r) => `${r.instrument} · ${r.venues.join(", ")}` },
    { header: "window", cell: (r) => `${r.from.slice(0, 16)} → ${r.to.slice(0, 16)}` },
    {
      header: "status",
      cell: (r) => <span class={`badge ${r.status === "failed" ? "warn" : ""}`}>{r.status}</span>,
    },
    { header: "fills", cell: (r) => r.stats?.fills ?? "–" },
    { header: "net PnL", cell: (r) => (r.stats ? `${r.stats.netPnl} ${r.stats.currency}` : "–") },
  ];
  return (
    <div class="portfolio-grid">
      <NewBacktest start={list.start} onStarted={setSelected} />
      <div class="stack">
        <section class="card" aria-labelledby="runs-title">
          <h2 id="runs-title">Runs</h2>
          <Show when={list.error()}>
            <p class="error" role="alert">
              {list.error()}
            </p>
          </Show>
          <Show when={list.runs().length > 0} fallback={<p class="muted">No backtests yet.</p>}>
            <DataTable testid="backtest-runs" columns={columns} rows={list.runs()} />
          </Show>
        </section>
        <Show when={current()} keyed>
          {(id) => <Result id={id} />}
        </Show>
      </div>
    </div>
  );
}

function NewBacktest(props: {
  start: ReturnType<typeof createBacktests>["start"];
  onStarted: (id: string) => void;
}) {
  const win = defaultWindow(Date.now());
  const [strategy, setStrategy] = createSignal<"market_maker" | "spread">("market_maker");
  const [instrument, setInstrument] = createSignal("BTC-USDT");
  const [venues, setVenues] = createSignal("BINANCE");
  const [from, setFrom] = createSignal(win.from);
  const [to, setTo] = createSignal(win.to);
  const [tradeSize, setTradeSize] = createSignal("0.001");
  const [bps, setBps] = createSignal("2");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const list = venues()
        .split(",")
        .map((v) => v.trim().toUpperCase())
        .filter(Boolean) as ("BINANCE" | "KRAKEN" | "COINBASE")[];
      const n = Number(bps());
      const run = await props.start({
        strategy: strategy(),
        instrument: instrument().trim(),
        venues: list,
        from: from().trim(),
        to: to().trim(),
        params: {
          tradeSize: tradeSize().trim(),
          ...(strategy() === "spread" ? { entryBps: n } : { halfSpreadBps: n }),
        },
      });
      props.onStarted(run.id);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const field = (label: string, name: string, value: () => string, set: (v: string) => void) => (
    <label>
      {label}
      <input name={name} value={value()} onInput={(e) => set(e.currentTarget.value)} />
    </label>
  );
  return (
    <section class="card ticket" aria-labelledby="new-backtest-title">
      <h2 id="new-backtest-title">New backtest</h2>
      <form class="stack" onSubmit={submit}>
        <label>
          Strategy
          <select
            name="strategy"
            value={strategy()}
            onChange={(e) => setStrategy(e.currentTarget.value as "market_maker" | "spread")}
          >
            <option value="market_maker">market maker</option>
            <option value="spread">cross-venue spread</option>
          </select>
        </label>
        {field("Instrument", "instrument", instrument, setInstrument)}
        {field("Venues (comma list)", "venues", venues, setVenues)}
        {field("From (RFC 3339)", "from", from, setFrom)}
        {field("To (RFC 3339)", "to", to, setTo)}
        {field("Trade size", "trade-size", tradeSize, setTradeSize)}
        {field(strategy() === "spread" ? "Entry (bps)" : "Half spread (bps)", "bps", bps, setBps)}
        <button type="submit" disabled={busy()}>
          Run backtest
        </button>
        <Show when={error()}>
          <p class="error" role="alert" data-testid="backtest-error">
            {error()}
          </p>
        </Show>
      </form>
    </section>
  );
}

type Fill = BacktestDetail["fills"][number];
type Order = BacktestDetail["orders"][number];
type Position = BacktestDetail["positions"][number];

const fillColumns: Column<Fill>[] = [
  { header: "time", cell: (f) => f.time.slice(11, 26) },
  { header: "instrument", cell: (f) => f.instrument },
  { header: "side", cell: (f) => f.side, class: (f) => sideClass(f.side) },
  { header: "price", cell: (f) => f.price },
  { header: "quantity", cell: (f) => f.quantity },
  { header: "fee", cell: (f) => `${f.commission} ${f.commissionCurrency}` },
  { header: "liquidity", cell: (f) => f.liquidity },
];
const orderColumns: Column<Order>[] = [
  { header: "time", cell: (o) => o.time.slice(11, 26) },
  { header: "side", cell: (o) => o.side, class: (o) => sideClass(o.side) },
  { header: "type", cell: (o) => `${o.type} ${o.timeInForce}` },
  { header: "price", cell: (o) => o.price ?? "market" },
  { header: "quantity", cell: (o) => o.quantity },
  { header: "filled", cell: (o) => o.filledQty },
  { header: "status", cell: (o) => o.status },
];
const positionColumns: Column<Position>[] = [
  { header: "instrument", cell: (p) => p.instrument },
  { header: "side", cell: (p) => p.side },
  { header: "quantity", cell: (p) => p.quantity },
  { header: "avg price", cell: (p) => p.avgPx },
  { header: "realized", cell: (p) => p.realizedPnl },
  { header: "unrealized", cell: (p) => p.unrealizedPnl },
];

function Result(props: { id: string }) {
  const r = createBacktest(props.id);
  return (
    <section class="card" aria-labelledby="result-title" data-testid="backtest-result">
      <h2 id="result-title">Result</h2>
      <Show when={r.error()}>
        <p class="error" role="alert">
          {r.error()}
        </p>
      </Show>
      <Show when={r.run()} keyed fallback={<p class="muted">loading…</p>}>
        {(run) => (
          <>
            <p data-testid="backtest-status" data-status={run.status}>
              {run.strategy} on {run.instrument} ({run.venues.join(", ")}) · {run.from} → {run.to} ·{" "}
              <strong>{run.status}</strong>
              {run.data
                ? ` · ${String(run.data.rows)} archived rows, ${String(run.data.quotes)} book tops`
                : ""}
            </p>
            <Show when={run.error}>
              <p class="error" role="alert" data-testid="backtest-failure">
                {run.error}
              </p>
            </Show>
            <Show when={run.stats} keyed>
              {(s) => (
                <>
                  <dl class="stats" data-testid="backtest-stats">
                    <For
                      each={[
                        ["net PnL", `${s.netPnl} ${s.currency}`],
                        ["return", `${s.returnPct} %`],
                        ["realized", s.realizedPnl],
                        ["unrealized", s.unrealizedPnl],
                        ["max drawdown", `${s.maxDrawdown} (${s.maxDrawdownPct} %)`],
                        ["fills", `${s.fills} (${s.buyFills} buy, ${s.sellFills} sell)`],
                        ["orders", `${s.orders} (${s.filledOrders} filled)`],
                        ["volume", s.volume],
                        ["fees", s.commissions],
                        ["end equity", s.endEquity],
                      ]}
                    >
                      {([k, v]) => (
                        <div>
                          <dt>{k}</dt>
                          <dd>{v}</dd>
                        </div>
                      )}
                    </For>
                  </dl>
                  <h3>Equity ({s.currency})</h3>
                  <EquityChart points={run.equity} currency={s.currency} />
                </>
              )}
            </Show>
            <Show when={run.status === "done"}>
              <h3>Fills</h3>
              <DataTable testid="backtest-fills" columns={fillColumns} rows={run.fills} />
              <h3>Positions at the end</h3>
              <DataTable testid="backtest-positions" columns={positionColumns} rows={run.positions} />
              <h3>Orders</h3>
              <DataTable testid="backtest-orders" columns={orderColumns} rows={run.orders.slice(-50)} />
            </Show>
          </>
        )}
      </Show>
    </section>
  );
}
