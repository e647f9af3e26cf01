/** @jsxImportSource solid-js */
// Markets: instrument, exchange (or all side by side), interval and depth pickers; per exchange a chart, the
// BBO and a ladder; the cross-exchange BBO and spread; the tape.
import { createMemo, createSignal, For, Show } from "solid-js";
import type { ExchangeName } from "../../../schema/frame.ts";
import { type InstrumentInfo, instruments } from "../app/instruments.ts";
import { Chart } from "./Chart.tsx";
import { createMarket, type Market } from "./create-market.ts";
import { LadderView } from "./LadderView.tsx";
import { crossBbo } from "./spread.ts";
import { Tape } from "./Tape.tsx";

export const INTERVALS = ["1s", "5s", "15s", "1m", "5m", "15m", "1h", "4h", "1d"];
const DEPTHS = [5, 10, 20, 50];

function param(name: string, fallback: string): string {
  return new URLSearchParams(location.search).get(name) ?? fallback;
}

export function MarketsPage(props: { theme: string }) {
  const [symbol, setSymbol] = createSignal(param("symbol", "BTC-USD"));
  const [exchange, setExchange] = createSignal<ExchangeName | "all">(
    param("exchange", "all") as ExchangeName,
  );
  const [interval, setInterval] = createSignal(param("interval", "1m"));
  const [depth, setDepth] = createSignal(10);
  const inst = createMemo(() => instruments()?.find((i) => i.symbol === symbol()));

  return (
    <main class="page markets" aria-labelledby="markets-title">
      <h1 id="markets-title" class="sr-only">
        Markets
      </h1>
      <form class="controls" onSubmit={(e) => e.preventDefault()}>
        <label>
          Instrument
          <select value={symbol()} onChange={(e) => setSymbol(e.currentTarget.value)} name="symbol">
            <For each={instruments() ?? []}>{(i) => <option value={i.symbol}>{i.symbol}</option>}</For>
          </select>
        </label>
        <label>
          Exchange
          <select
            value={exchange()}
            onChange={(e) => setExchange(e.currentTarget.value as ExchangeName | "all")}
            name="exchange"
          >
            <option value="all">all, side by side</option>
            <For each={inst()?.exchanges ?? []}>{(x) => <option value={x}>{x}</option>}</For>
          </select>
        </label>
        <label>
          Interval
          <select value={interval()} onChange={(e) => setInterval(e.currentTarget.value)} name="interval">
            <For each={INTERVALS}>{(i) => <option value={i}>{i}</option>}</For>
          </select>
        </label>
        <label>
          Depth
          <select value={depth()} onChange={(e) => setDepth(Number(e.currentTarget.value))} name="depth">
            <For each={DEPTHS}>{(d) => <option value={d}>{d}</option>}</For>
          </select>
        </label>
      </form>
      <Show when={inst()} keyed fallback={<p class="muted">loading instruments…</p>}>
        {(i: InstrumentInfo) => (
          <Show when={`${exchange()}|${interval()}`} keyed>
            {(_key: string) => {
              const chosen = exchange();
              const list = chosen === "all" || !i.exchanges.includes(chosen) ? i.exchanges : [chosen];
              const market = createMarket(i, list, interval());
              return <MarketView market={market} depth={depth()} theme={props.theme} depthSignal={depth} />;
            }}
          </Show>
        )}
      </Show>
    </main>
  );
}

function MarketView(props: { market: Market; depth: number; depthSignal: () => number; theme: string }) {
  const exchanges = [...props.market.markets.values()];
  const cross = createMemo(() => {
    props.market.version();
    return crossBbo(exchanges.flatMap((m) => (m.bbo ? [m.bbo] : [])));
  });
  return (
    <>
      <div class="exchanges" style={{ "--cols": String(exchanges.length) }}>
        <For each={exchanges}>
          {(ex) => {
            const bbo = createMemo(() => {
              props.market.version();
              return ex.bbo;
            });
            const info = createMemo(() => {
              props.market.version();
              return { error: ex.historyError, live: ex.series.live, last: ex.lastTrade?.price ?? null };
            });
            return (
              <section class="card exchange" aria-label={`${ex.exchange} ${props.market.inst.symbol}`}>
                <header>
                  <h2>{ex.exchange}</h2>
                  <span class="last" data-testid={`last-${ex.exchange}`}>
                    {info().last ?? "–"}
                  </span>
                  <span class="muted small">{info().live ? "live" : "history"}</span>
                </header>
                <p class="bbo" data-testid={`bbo-${ex.exchange}`}>
                  <span class="bid">{bbo()?.bidPrice ?? "–"}</span>
                  <span class="muted"> × {bbo()?.bidSize ?? "–"}</span>
                  <span class="sep"> / </span>
                  <span class="ask">{bbo()?.askPrice ?? "–"}</span>
                  <span class="muted"> × {bbo()?.askSize ?? "–"}</span>
                </p>
                <Show when={info().error}>
                  <p class="error" role="alert">
                    {info().error}
                  </p>
                </Show>
                <div class="exchange-body">
                  <Chart market={props.market} ex={ex} theme={props.theme} />
                  <LadderView market={props.market} ex={ex} depth={props.depthSignal()} />
                </div>
              </section>
            );
          }}
        </For>
      </div>
      <div class="row">
        <section class="card cross" aria-label="cross-exchange best bid and offer">
          <h2>Best bid / offer across exchanges</h2>
          <table data-testid="cross-bbo">
            <thead>
              <tr>
                <th scope="col">exchange</th>
                <th scope="col">bid</th>
                <th scope="col">ask</th>
              </tr>
            </thead>
            <tbody>
              <For each={exchanges}>
                {(ex) => {
                  const b = createMemo(() => {
                    props.market.version();
                    return ex.bbo;
                  });
                  return (
                    <tr>
                      <td>{ex.exchange}</td>
                      <td class="bid">{b()?.bidPrice ?? "–"}</td>
                      <td class="ask">{b()?.askPrice ?? "–"}</td>
                    </tr>
                  );
                }}
              </For>
            </tbody>
          </table>
          <p>
            best bid <strong class="bid">{cross().bid?.price ?? "–"}</strong> ({cross().bid?.exchange ?? "–"})
            · best ask <strong class="ask">{cross().ask?.price ?? "–"}</strong> (
            {cross().ask?.exchange ?? "–"}) · spread{" "}
            <strong data-testid="cross-spread">{cross().spread ?? "–"}</strong>
            <Show when={cross().crossed}>
              <span class="badge warn"> crossed</span>
            </Show>
          </p>
        </section>
        <Tape market={props.market} />
      </div>
    </>
  );
}
