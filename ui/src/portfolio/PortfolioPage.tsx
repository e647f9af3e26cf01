/** @jsxImportSource solid-js */
// Portfolio: log in / register, then portfolios, the order ticket, open orders (cancel), fills, positions and
// PnL marked live.
import { createResource, createSignal, For, Show } from "solid-js";
import { restoring, session, user } from "../app/auth.ts";
import { api, call, errorText } from "../lib/api.ts";
import { type Column, DataTable, sideClass } from "../lib/DataTable.tsx";
import { AuthForm } from "./AuthForm.tsx";
import { createPortfolio } from "./create-portfolio.ts";
import { OrderTicket } from "./OrderTicket.tsx";

export function PortfolioPage() {
  return (
    <main class="page portfolio" aria-labelledby="portfolio-title">
      <h1 id="portfolio-title">Portfolio</h1>
      <Show when={!restoring()} fallback={<p class="muted">restoring your session…</p>}>
        <Show when={user()} keyed fallback={<AuthForm />}>
          {(u) => <Portfolios email={u.email} />}
        </Show>
      </Show>
    </main>
  );
}

function Portfolios(props: { email: string }) {
  const [list, { refetch }] = createResource(() => call(api.portfolios.get({ query: {} })));
  const [selected, setSelected] = createSignal<string | null>(null);
  const [name, setName] = createSignal("main");
  const [error, setError] = createSignal<string | null>(null);
  const current = () => selected() ?? list()?.[0]?.id ?? null;

  async function create(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      const p = await call(api.portfolios.post({ name: name() }));
      await refetch();
      setSelected(p.id);
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <>
      <section class="card account" aria-label="account">
        <p>
          Logged in as <strong data-testid="user-email">{props.email}</strong>{" "}
          <button type="button" class="secondary" onClick={() => void session.logout()}>
            Log out
          </button>
        </p>
        <form class="inline-form" onSubmit={create}>
          <label>
            Portfolio
            <select
              name="portfolio"
              value={current() ?? ""}
              onChange={(e) => setSelected(e.currentTarget.value)}
            >
              <For each={list() ?? []}>{(p) => <option value={p.id}>{p.name}</option>}</For>
            </select>
          </label>
          <label>
            New portfolio name
            <input name="portfolio-name" value={name()} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit">Create portfolio</button>
        </form>
        <Show when={error() ?? (list.error ? errorText(list.error) : null)}>
          <p class="error" role="alert">
            {error() ?? errorText(list.error)}
          </p>
        </Show>
      </section>
      <Show when={current()} keyed fallback={<p class="muted">Create a portfolio to trade on paper.</p>}>
        {(id) => <PortfolioView id={id} />}
      </Show>
    </>
  );
}

type Portfolio = ReturnType<typeof createPortfolio>;
type Row<K extends "orders" | "fills"> = ReturnType<Portfolio[K]>[number];
type Marked = ReturnType<Portfolio["marked"]>;

const TOTALS: readonly Column<Marked["totals"][number]>[] = [
  { header: "quote", cell: (t) => t.quote },
  { header: "realized", cell: (t) => t.realized },
  { header: "unrealized", cell: (t) => t.unrealized },
  { header: "fees", cell: (t) => t.fees },
  {
    header: "net",
    cell: (t) => (
      <>
        <strong>{t.net}</strong>
        {t.unmarked ? ` (${t.unmarked} unmarked)` : ""}
      </>
    ),
  },
  { header: "cash", cell: (t) => t.cash ?? "–" },
  { header: "equity", cell: (t) => t.equity ?? "–" },
];

const POSITIONS: readonly Column<Marked["positions"][number]>[] = [
  { header: "symbol", cell: (x) => x.symbol },
  { header: "exchange", cell: (x) => x.exchange },
  { header: "quantity", cell: (x) => x.quantity },
  { header: "cost basis", cell: (x) => x.costBasis },
  {
    header: "mark",
    cell: (x) => (
      <>
        {x.mark ?? "–"}
        {x.live ? <span class="badge">live</span> : ""}
      </>
    ),
  },
  { header: "unrealized", cell: (x) => x.unrealized ?? "–" },
  { header: "realized", cell: (x) => x.realizedPnl },
];

const openOrderColumns = (cancel: (id: string) => void): readonly Column<Row<"orders">>[] => [
  { header: "symbol", cell: (o) => o.symbol },
  { header: "exchange", cell: (o) => o.exchange },
  { header: "side", cell: (o) => o.side, class: (o) => sideClass(o.side) },
  { header: "quantity", cell: (o) => o.quantity },
  { header: "limit", cell: (o) => o.limitPrice ?? "market" },
  {
    header: <span class="sr-only">actions</span>,
    cell: (o) => (
      <button type="button" class="secondary" onClick={() => cancel(o.id)}>
        Cancel<span class="sr-only"> order {o.id}</span>
      </button>
    ),
  },
];

const FILLS: readonly Column<Row<"fills">>[] = [
  { header: "time (UTC)", cell: (f) => f.time.slice(11, 23), class: () => "muted" },
  { header: "symbol", cell: (f) => f.symbol },
  { header: "exchange", cell: (f) => f.exchange },
  { header: "side", cell: (f) => f.side, class: (f) => sideClass(f.side) },
  { header: "quantity", cell: (f) => f.quantity },
  { header: "price", cell: (f) => f.price },
  { header: "fee", cell: (f) => f.fee },
  { header: "liquidity", cell: (f) => f.liquidity },
];

function PortfolioView(props: { id: string }) {
  const p = createPortfolio(props.id);
  const orderColumns = openOrderColumns((id) => void p.cancel(id));
  return (
    <div class="portfolio-grid">
      <OrderTicket portfolioId={props.id} onPlaced={() => void p.reload()} />
      <div class="stack">
        <section class="card" aria-labelledby="pnl-title">
          <h2 id="pnl-title">PnL (marked live)</h2>
          <DataTable testid="pnl" columns={TOTALS} rows={p.marked().totals} />
          <Show when={p.error()}>
            <p class="error" role="alert">
              {p.error()}
            </p>
          </Show>
        </section>
        <section class="card scroll-x" aria-labelledby="positions-title">
          <h2 id="positions-title">Positions</h2>
          <DataTable testid="positions" columns={POSITIONS} rows={p.marked().positions} />
        </section>
        <section class="card scroll-x" aria-labelledby="orders-title">
          <h2 id="orders-title">Open orders</h2>
          <DataTable testid="open-orders" columns={orderColumns} rows={p.orders()} />
        </section>
        <section class="card scroll-x" aria-labelledby="fills-title">
          <h2 id="fills-title">Fills</h2>
          <DataTable testid="fills" columns={FILLS} rows={p.fills()} />
        </section>
      </div>
    </div>
  );
}
