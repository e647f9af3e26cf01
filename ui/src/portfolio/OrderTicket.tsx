/** @jsxImportSource solid-js */
// The paper order ticket: market or limit; the estimated notional is exact (BigInt decimals) from the
// exchange's live BBO (market) or the limit price.
import { createMemo, createSignal, For, Show } from "solid-js";
import type { ExchangeName } from "../../../schema/frame.ts";
import { instruments } from "../app/instruments.ts";
import { createStreamListener, createSubscription } from "../app/stream.ts";
import { api, call, errorText } from "../lib/api.ts";
import { format, fractionDigits, mul, parseDec } from "../lib/decimal.ts";
import type { BboMessage } from "../lib/messages.ts";

export function OrderTicket(props: { portfolioId: string; onPlaced: () => void }) {
  const [symbol, setSymbol] = createSignal("BTC-USD");
  const [exchange, setExchange] = createSignal<ExchangeName>("coinbase");
  const [side, setSide] = createSignal<"buy" | "sell">("buy");
  const [type, setType] = createSignal<"market" | "limit">("market");
  const [quantity, setQuantity] = createSignal("0.01");
  const [limitPrice, setLimitPrice] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [result, setResult] = createSignal<string | null>(null);
  const [bbo, setBbo] = createSignal<BboMessage | null>(null);
  const inst = createMemo(() => instruments()?.find((i) => i.symbol === symbol()));
  const exchanges = createMemo(() => inst()?.exchanges ?? []);

  const subscribe = createSubscription();
  const resubscribe = () => {
    setBbo(null);
    subscribe([{ op: "subscribe", exchanges: [exchange()], symbols: [symbol()], kinds: ["bbo"] }]);
  };
  resubscribe();
  createStreamListener((messages) => {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i]!;
      if (m.type === "bbo" && m.exchange === exchange() && m.symbol === symbol()) {
        setBbo(m);
        return;
      }
    }
  });

  const price = createMemo(() => {
    if (type() === "limit") return limitPrice();
    const b = bbo();
    return (side() === "buy" ? b?.askPrice : b?.bidPrice) ?? null;
  });
  const notional = createMemo(() => {
    const q = parseDec(quantity());
    const p = price();
    const pd = p ? parseDec(p) : null;
    return q && pd ? format(mul(q, pd)) : null;
  });
  const problem = createMemo(() => {
    const i = inst();
    if (!parseDec(quantity())) return "quantity must be a decimal number";
    if (i && fractionDigits(quantity()) > i.sizeDecimals)
      return `quantity has at most ${i.sizeDecimals} decimals`;
    if (type() === "limit" && !parseDec(limitPrice())) return "limit price must be a decimal number";
    return null;
  });

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setResult(null);
    try {
      const order = await call(
        api.portfolios({ portfolioId: props.portfolioId }).orders.post({
          symbol: symbol(),
          exchange: exchange(),
          side: side(),
          type: type(),
          quantity: quantity(),
          ...(type() === "limit" ? { limitPrice: limitPrice() } : {}),
        }),
      );
      const filled = parseDec(order.filledQuantity);
      setResult(
        order.status === "filled"
          ? `filled ${order.filledQuantity} at ${order.averagePrice}`
          : filled && filled.m > 0n
            ? `filled ${order.filledQuantity} of ${order.quantity} at ${order.averagePrice}; ${order.status === "open" ? "the rest rests" : "the rest was canceled (visible depth)"}`
            : order.status === "open"
              ? `resting: ${order.side} ${order.quantity} at ${order.limitPrice}`
              : `not filled: order ${order.status}`,
      );
      props.onPlaced();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <section class="card ticket" aria-labelledby="ticket-title">
      <h2 id="ticket-title">Paper order</h2>
      <form onSubmit={submit}>
        <label>
          Instrument
          <select
            name="ticket-symbol"
            value={symbol()}
            onChange={(e) => {
              setSymbol(e.currentTarget.value);
              if (!exchanges().includes(exchange())) setExchange(exchanges()[0] ?? "coinbase");
              resubscribe();
            }}
          >
            <For each={instruments() ?? []}>{(i) => <option value={i.symbol}>{i.symbol}</option>}</For>
          </select>
        </label>
        <label>
          Exchange
          <select
            name="ticket-exchange"
            value={exchange()}
            onChange={(e) => {
              setExchange(e.currentTarget.value as ExchangeName);
              resubscribe();
            }}
          >
            <For each={exchanges()}>{(x) => <option value={x}>{x}</option>}</For>
          </select>
        </label>
        <fieldset>
          <legend>Side</legend>
          <label class="inline">
            <input
              type="radio"
              name="side"
              value="buy"
              checked={side() === "buy"}
              onChange={() => setSide("buy")}
            />
            buy
          </label>
          <label class="inline">
            <input
              type="radio"
              name="side"
              value="sell"
              checked={side() === "sell"}
              onChange={() => setSide("sell")}
            />
            sell
          </label>
        </fieldset>
        <label>
          Type
          <select
            name="type"
            value={type()}
            onChange={(e) => setType(e.currentTarget.value as "market" | "limit")}
          >
            <option value="market">market</option>
            <option value="limit">limit</option>
          </select>
        </label>
        <label>
          Quantity
          <input
            name="quantity"
            inputmode="decimal"
            required
            value={quantity()}
            onInput={(e) => setQuantity(e.currentTarget.value)}
          />
        </label>
        <Show when={type() === "limit"}>
          <label>
            Limit price
            <input
              name="limitPrice"
              inputmode="decimal"
              required
              value={limitPrice()}
              onInput={(e) => setLimitPrice(e.currentTarget.value)}
            />
          </label>
        </Show>
        <p class="muted small" data-testid="ticket-estimate">
          {type() === "market" ? `at ${side() === "buy" ? "ask" : "bid"} ${price() ?? "–"}` : ""} · notional{" "}
          {notional() ?? "–"} {inst()?.quote ?? ""}
        </p>
        <Show when={problem()}>
          <p class="muted small">{problem()}</p>
        </Show>
        <button type="submit">
          {side() === "buy" ? "Buy" : "Sell"} {quantity()} {inst()?.base ?? ""}
        </button>
        <Show when={result()}>
          <p role="status" data-testid="ticket-result">
            {result()}
          </p>
        </Show>
        <Show when={error()}>
          <p class="error" role="alert" data-testid="ticket-error">
            {error()}
          </p>
        </Show>
      </form>
    </section>
  );
}
