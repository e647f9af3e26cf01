/** @jsxImportSource solid-js */
// Strategies: what the NautilusTrader trader does on paper (or live): pick a run, see its PnL, positions,
// orders, fills and engine events, polled from the API as the trader records them.
import { createSignal, For, Show } from "solid-js";
import { restoring, user } from "../app/auth.ts";
import { type Column, DataTable, sideClass } from "../lib/DataTable.tsx";
import { AuthForm } from "../portfolio/AuthForm.tsx";
import { createRuns, createStrategyRun, type RunView } from "./create-strategy-run.ts";

export function StrategiesPage() {
  return (
    <main class="page strategies" aria-labelledby="strategies-title">
      <h1 id="strategies-title">Strategies</h1>
      <Show when={!restoring()} fallback={<p class="muted">restoring your session…</p>}>
        <Show when={user()} fallback={<AuthForm />}>
          <Runs />
        </Show>
      </Show>
    </main>
  );
}

function Runs() {
  const { runs, error } = createRuns();
  const [selected, setSelected] = createSignal<string | null>(null);
  const current = () => selected() ?? runs()[0]?.id ?? null;
  return (
    <>
      <section class="card" aria-label="runs">
        <form class="inline-form" onSubmit={(e) => e.preventDefault()}>
          <label>
            Run
            <select name="run" value={current() ?? ""} onChange={(e) => setSelected(e.currentTarget.value)}>
              <For each={runs()}>
                {(r) => (
                  <option value={r.id}>
                    {r.strategyId} · {r.mode} · {r.instruments.join(", ")} · {r.startedAt.slice(0, 19)}Z
                  </option>
                )}
              </For>
            </select>
          </label>
        </form>
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
      </section>
      <Show
        when={current()}
        keyed
        fallback={
          <p class="muted">No trader runs yet: the trader records here once it starts (bun run dev).</p>
        }
      >
        {(id) => <RunDetail id={id} />}
      </Show>
    </>
  );
}

type Of<K extends keyof RunView> = RunView[K] extends readonly (infer T)[] ? T : never;

const PNL: readonly Column<RunView["pnl"]["totals"][number]>[] = [
  { header: "currency", cell: (t) => t.currency },
  { header: "realized", cell: (t) => <strong>{t.realized}</strong> },
  { header: "unrealized", cell: (t) => t.unrealized },
  { header: "commissions", cell: (t) => t.commissions },
];
const BALANCES: readonly Column<RunView["pnl"]["balances"][number]>[] = [
  { header: "account", cell: (b) => b.accountId },
  { header: "currency", cell: (b) => b.currency },
  { header: "start", cell: (b) => b.start },
  { header: "total", cell: (b) => b.total },
  { header: "change", cell: (b) => b.change },
];
const POSITIONS: readonly Column<Of<"positions">>[] = [
  { header: "instrument", cell: (p) => p.instrumentId },
  { header: "side", cell: (p) => p.side },
  { header: "quantity", cell: (p) => p.signedQty },
  { header: "avg open", cell: (p) => p.avgPxOpen },
  { header: "realized", cell: (p) => p.realizedPnl },
  { header: "unrealized", cell: (p) => p.unrealizedPnl },
  { header: "currency", cell: (p) => p.currency },
];
const ORDERS: readonly Column<Of<"orders">>[] = [
  { header: "updated (UTC)", cell: (o) => o.updatedAt.slice(11, 23), class: () => "muted" },
  { header: "instrument", cell: (o) => o.instrumentId },
  { header: "side", cell: (o) => o.side, class: (o) => sideClass(o.side) },
  { header: "type", cell: (o) => o.type },
  { header: "quantity", cell: (o) => o.quantity },
  { header: "price", cell: (o) => o.price ?? "market" },
  { header: "filled", cell: (o) => o.filledQty },
  { header: "status", cell: (o) => o.status },
];
const FILLS: readonly Column<Of<"fills">>[] = [
  { header: "time (UTC)", cell: (f) => f.time.slice(11, 23), class: () => "muted" },
  { header: "instrument", cell: (f) => f.instrumentId },
  { header: "side", cell: (f) => f.side, class: (f) => sideClass(f.side) },
  { header: "quantity", cell: (f) => f.quantity },
  { header: "price", cell: (f) => f.price },
  { header: "commission", cell: (f) => `${f.commission} ${f.commissionCurrency}` },
  { header: "liquidity", cell: (f) => f.liquidity },
];
const EVENTS: readonly Column<Of<"events">>[] = [
  { header: "time (UTC)", cell: (e) => e.time.slice(11, 23), class: () => "muted" },
  { header: "kind", cell: (e) => e.kind },
  { header: "event", cell: (e) => e.message },
];

function RunDetail(props: { id: string }) {
  const run = createStrategyRun(props.id);
  return (
    <Show when={run.view()} fallback={<p class="muted">{run.error() ?? "loading…"}</p>}>
      {(v) => (
        <div class="stack" data-testid="strategy-run" data-run={props.id}>
          <section class="card" aria-labelledby="run-title">
            <h2 id="run-title">
              {v().summary.strategyId} <span class="badge">{v().summary.mode}</span>{" "}
              <span class="badge" data-testid="run-state">
                {v().summary.stoppedAt ? "stopped" : "running"}
              </span>
            </h2>
            <p class="muted small">
              {v().summary.instruments.join(", ")} · started {v().summary.startedAt.slice(0, 19)}Z · last
              event {v().summary.lastEventAt.slice(11, 19)} · {v().summary.orders} orders, {v().summary.fills}{" "}
              fills
            </p>
            <h3>PnL</h3>
            <DataTable testid="strategy-pnl" columns={PNL} rows={v().pnl.totals} />
            <h3>Balances</h3>
            <DataTable testid="strategy-balances" columns={BALANCES} rows={v().pnl.balances} />
            <Show when={run.error()}>
              <p class="error" role="alert">
                {run.error()}
              </p>
            </Show>
          </section>
          <section class="card scroll-x" aria-labelledby="sp-title">
            <h2 id="sp-title">Positions</h2>
            <DataTable testid="strategy-positions" columns={POSITIONS} rows={v().positions} />
          </section>
          <section class="card scroll-x" aria-labelledby="so-title">
            <h2 id="so-title">Orders</h2>
            <DataTable testid="strategy-orders" columns={ORDERS} rows={v().orders} />
          </section>
          <section class="card scroll-x" aria-labelledby="sf-title">
            <h2 id="sf-title">Fills</h2>
            <DataTable testid="strategy-fills" columns={FILLS} rows={v().fills} />
          </section>
          <section class="card scroll-x" aria-labelledby="se-title">
            <h2 id="se-title">Engine events</h2>
            <DataTable testid="strategy-events" columns={EVENTS} rows={v().events} />
          </section>
        </div>
      )}
    </Show>
  );
}
