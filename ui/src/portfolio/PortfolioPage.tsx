/** @jsxImportSource solid-js */
// Portfolio: log in / register, then portfolios, the order ticket, open orders (cancel), fills, positions and
// PnL marked live.
import { createResource, createSignal, For, Show } from "solid-js";
import { restoring, session, user } from "../app/auth.ts";
import { api, call, errorText } from "../lib/api.ts";
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

function PortfolioView(props: { id: string }) {
  const p = createPortfolio(props.id);
  return (
    <div class="portfolio-grid">
      <OrderTicket portfolioId={props.id} onPlaced={() => void p.reload()} />
      <div class="stack">
        <section class="card" aria-labelledby="pnl-title">
          <h2 id="pnl-title">PnL (marked live)</h2>
          <table data-testid="pnl">
            <thead>
              <tr>
                <th scope="col">quote</th>
                <th scope="col">realized</th>
                <th scope="col">unrealized</th>
                <th scope="col">fees</th>
                <th scope="col">net</th>
                <th scope="col">cash</th>
                <th scope="col">equity</th>
              </tr>
            </thead>
            <tbody>
              <For each={p.marked().totals}>
                {(t) => (
                  <tr>
                    <td>{t.quote}</td>
                    <td>{t.realized}</td>
                    <td>{t.unrealized}</td>
                    <td>{t.fees}</td>
                    <td>
                      <strong>{t.net}</strong>
                      {t.unmarked ? ` (${t.unmarked} unmarked)` : ""}
                    </td>
                    <td>{t.cash ?? "–"}</td>
                    <td>{t.equity ?? "–"}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
          <Show when={p.error()}>
            <p class="error" role="alert">
              {p.error()}
            </p>
          </Show>
        </section>
        <section class="card scroll-x" aria-labelledby="positions-title">
          <h2 id="positions-title">Positions</h2>
          <table data-testid="positions">
            <thead>
              <tr>
                <th scope="col">symbol</th>
                <th scope="col">exchange</th>
                <th scope="col">quantity</th>
                <th scope="col">cost basis</th>
                <th scope="col">mark</th>
                <th scope="col">unrealized</th>
                <th scope="col">realized</th>
              </tr>
            </thead>
            <tbody>
              <For each={p.marked().positions}>
                {(x) => (
                  <tr>
                    <td>{x.symbol}</td>
                    <td>{x.exchange}</td>
                    <td>{x.quantity}</td>
                    <td>{x.costBasis}</td>
                    <td>
                      {x.mark ?? "–"}
                      {x.live ? <span class="badge">live</span> : ""}
                    </td>
                    <td>{x.unrealized ?? "–"}</td>
                    <td>{x.realizedPnl}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </section>
        <section class="card scroll-x" aria-labelledby="orders-title">
          <h2 id="orders-title">Open orders</h2>
          <table data-testid="open-orders">
            <thead>
              <tr>
                <th scope="col">symbol</th>
                <th scope="col">exchange</th>
                <th scope="col">side</th>
                <th scope="col">quantity</th>
                <th scope="col">limit</th>
                <th scope="col">
                  <span class="sr-only">actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              <For each={p.orders()}>
                {(o) => (
                  <tr>
                    <td>{o.symbol}</td>
                    <td>{o.exchange}</td>
                    <td class={o.side === "buy" ? "bid" : "ask"}>{o.side}</td>
                    <td>{o.quantity}</td>
                    <td>{o.limitPrice ?? "market"}</td>
                    <td>
                      <button type="button" class="secondary" onClick={() => void p.cancel(o.id)}>
                        Cancel<span class="sr-only"> order {o.id}</span>
                      </button>
                    </td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </section>
        <section class="card scroll-x" aria-labelledby="fills-title">
          <h2 id="fills-title">Fills</h2>
          <table data-testid="fills">
            <thead>
              <tr>
                <th scope="col">time (UTC)</th>
                <th scope="col">symbol</th>
                <th scope="col">exchange</th>
                <th scope="col">side</th>
                <th scope="col">quantity</th>
                <th scope="col">price</th>
                <th scope="col">fee</th>
                <th scope="col">liquidity</th>
              </tr>
            </thead>
            <tbody>
              <For each={p.fills()}>
                {(f) => (
                  <tr>
                    <td class="muted">{f.time.slice(11, 23)}</td>
                    <td>{f.symbol}</td>
                    <td>{f.exchange}</td>
                    <td class={f.side === "buy" ? "bid" : "ask"}>{f.side}</td>
                    <td>{f.quantity}</td>
                    <td>{f.price}</td>
                    <td>{f.fee}</td>
                    <td>{f.liquidity}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </section>
      </div>
    </div>
  );
}
