/** @jsxImportSource solid-js */
// One exchange's L2 ladder: asks above (best at the bottom), bids below, cumulative size, resync mark.
import { createMemo, Index, Show } from "solid-js";
import type { ExchangeMarket, Market } from "./create-market.ts";

export function LadderView(props: { market: Market; ex: ExchangeMarket; depth: number }) {
  const view = createMemo(() => {
    props.market.version();
    return props.ex.ladder.view(props.depth);
  });
  // Rows are updated in place (Index): a frame changes text, not the table's structure.
  const asksTopDown = createMemo(() => [...view().asks].reverse());
  return (
    <section
      class="ladder"
      aria-label={`${props.ex.exchange} order book`}
      data-testid={`ladder-${props.ex.exchange}`}
      data-resyncing={view().resyncing ? "true" : "false"}
    >
      <Show when={view().resyncing}>
        <p class="badge warn" role="status">
          resyncing{view().reason ? ` (${view().reason})` : ""}
        </p>
      </Show>
      <table>
        <thead>
          <tr>
            <th scope="col">price</th>
            <th scope="col">size</th>
            <th scope="col">total</th>
          </tr>
        </thead>
        <tbody class="asks">
          <Index each={asksTopDown()}>
            {(l) => (
              <tr>
                <td class="ask">{l().price}</td>
                <td>{l().size}</td>
                <td class="muted">{l().total}</td>
              </tr>
            )}
          </Index>
        </tbody>
        <tbody class="mid">
          <tr>
            <td colSpan={3} class="muted">
              spread {view().spread ?? "–"}
            </td>
          </tr>
        </tbody>
        <tbody class="bids">
          <Index each={view().bids}>
            {(l) => (
              <tr>
                <td class="bid">{l().price}</td>
                <td>{l().size}</td>
                <td class="muted">{l().total}</td>
              </tr>
            )}
          </Index>
        </tbody>
      </table>
      <Show when={view().bids.length === 0 && view().asks.length === 0}>
        <p class="muted">waiting for the book…</p>
      </Show>
    </section>
  );
}
