/** @jsxImportSource solid-js */
// The trade tape: exact decimal strings as the bridge sent them, aggressor side, exchange.
import { createMemo, Index } from "solid-js";
import type { Market } from "./create-market.ts";

const time = (ns: string) => new Date(Number(ns.slice(0, -6))).toISOString().slice(11, 23);

export function Tape(props: { market: Market }) {
  const rows = createMemo(() => {
    props.market.version();
    return props.market.tape.rows().slice(0, 40);
  });
  return (
    <section class="card tape" aria-label="trade tape">
      <h2>Trades</h2>
      <table data-testid="tape">
        <thead>
          <tr>
            <th scope="col">time (UTC)</th>
            <th scope="col">exchange</th>
            <th scope="col">side</th>
            <th scope="col">price</th>
            <th scope="col">size</th>
          </tr>
        </thead>
        <tbody>
          <Index each={rows()}>
            {(row) => {
              const t = () => row();
              return (
                <tr data-exchange={t().exchange}>
                  <td class="muted">
                    {t().tsExchange || t().tsRecv ? time((t().tsExchange ?? t().tsRecv)!) : "–"}
                  </td>
                  <td>{t().exchange}</td>
                  <td class={t().side === "buy" ? "bid" : t().side === "sell" ? "ask" : "muted"}>
                    {t().side}
                  </td>
                  <td>{t().price}</td>
                  <td>{t().size}</td>
                </tr>
              );
            }}
          </Index>
        </tbody>
      </table>
    </section>
  );
}
