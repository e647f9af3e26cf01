/** @jsxImportSource solid-js */
// Feeds: every exchange × symbol's health, live from the stream (subscribed to everything while shown), the
// feed-event timeline (history from the API, then live) and a banner for a gap, resync or stale feed now.
import { createMemo, createSignal, For, Index, onCleanup, Show } from "solid-js";
import { EXCHANGES, RESYNC_REASON_NAMES } from "../../../schema/frame.ts";
import { createStreamListener, createSubscription } from "../app/stream.ts";
import { api, call, errorText } from "../lib/api.ts";
import { type FeedEvent, makeFeedHealth } from "./feed-health.ts";

const ago = (t: number | null, now: number) =>
  t === null ? "–" : `${Math.max(0, Math.round((now - t) / 100) / 10)} s`;
const clock = (t: number | null) => (t === null ? "–" : new Date(t).toISOString().slice(11, 19));
const ms = (v: number | null) => (v === null ? "–" : v < 10 ? v.toFixed(2) : v.toFixed(0));

export function FeedsPage() {
  const health = makeFeedHealth();
  const [tick, setTick] = createSignal(0);
  const [error, setError] = createSignal<string | null>(null);
  createSubscription()([{ op: "subscribe", kinds: ["trade", "book", "bbo", "status"] }]);
  createStreamListener((messages) => {
    health.apply(messages);
    // a state change is shown in the frame it arrives (a resync may last a few hundred ms)
    if (messages.some((m) => m.type === "status" && m.status !== "heartbeat")) setTick((t) => t + 1);
  });
  // Rates and ages move with time, not only with messages: redraw twice a second.
  const timer = setInterval(() => setTick((t) => t + 1), 500);
  onCleanup(() => clearInterval(timer));

  void (async () => {
    try {
      const [feeds, events, registry] = await Promise.all([
        call(api.market.feeds.get()),
        call(api.market["feed-events"].get({ query: { limit: 100 } })),
        call(api.market.instruments.get()),
      ]);
      const symbolOf = new Map(registry.map((i) => [i.id, i.symbol]));
      for (const f of feeds)
        if (f.state !== "unknown")
          health.seedConnection(
            f.exchange,
            f.state === "connected",
            f.stateSince ? Date.parse(f.stateSince) : null,
          );
      health.loadEvents(
        events.items.map(
          (e): FeedEvent => ({
            at: Date.parse(e.time),
            exchange: e.exchange,
            symbol: e.instrumentId === 0 ? null : (symbolOf.get(e.instrumentId) ?? `#${e.instrumentId}`),
            event: e.event,
            detail:
              e.event === "book_resync" ? (RESYNC_REASON_NAMES[Number(e.detail)] ?? e.detail) : e.detail,
            live: false,
          }),
        ),
      );
      setTick((t) => t + 1);
    } catch (e) {
      setError(errorText(e));
    }
  })();

  const view = createMemo(() => {
    tick();
    return {
      now: Date.now(),
      rows: health.rows(),
      events: health.events().slice(0, 60),
      alerts: health.alerts(),
    };
  });

  return (
    <main class="page feeds" aria-labelledby="feeds-title">
      <h1 id="feeds-title">Feeds</h1>
      <Show when={view().alerts.events.length > 0 || view().alerts.feeds.length > 0}>
        <div class="banner" role="alert" data-testid="feed-banner">
          <For each={view().alerts.feeds}>
            {(r) => (
              <span>
                {r.exchange} {r.symbol}: <strong>{r.state}</strong>{" "}
              </span>
            )}
          </For>
          <For each={view().alerts.events.slice(0, 4)}>
            {(e) => (
              <span>
                {e.exchange} {e.symbol ?? ""}: {e.event} {e.detail}{" "}
              </span>
            )}
          </For>
        </div>
      </Show>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <section class="card" aria-label="connections">
        <h2>Connections</h2>
        <ul class="connections">
          <For each={EXCHANGES}>
            {(x) => {
              const c = createMemo(() => {
                view();
                return health.connectionOf(x);
              });
              return (
                <li data-testid={`conn-${x}`}>
                  <strong>{x}</strong>{" "}
                  <span class={c().connected === false ? "ask" : c().connected ? "bid" : "muted"}>
                    {c().connected === null ? "unknown" : c().connected ? "connected" : "disconnected"}
                  </span>{" "}
                  <span class="muted small">since {clock(c().since)}</span>
                </li>
              );
            }}
          </For>
        </ul>
      </section>
      <section class="card scroll-x" aria-label="feed health">
        <h2>Feed health</h2>
        <table data-testid="feeds-table">
          <thead>
            <tr>
              <th scope="col">exchange</th>
              <th scope="col">symbol</th>
              <th scope="col">state</th>
              <th scope="col">since</th>
              <th scope="col">msgs/s</th>
              <th scope="col">last msg</th>
              <th scope="col">gaps</th>
              <th scope="col">trade-id gaps</th>
              <th scope="col">resyncs</th>
              <th scope="col" title="collector receive → this browser (same clock only on one host)">
                hop p50 ms
              </th>
              <th scope="col">hop p99 ms</th>
              <th scope="col" title="exchange time → collector receive (two clocks)">
                exch→coll p50
              </th>
            </tr>
          </thead>
          <tbody>
            <Index each={view().rows}>
              {(row) => {
                const r = () => row();
                return (
                  <tr data-feed={`${r().exchange}|${r().symbol}`} data-state={r().state}>
                    <td>{r().exchange}</td>
                    <td>{r().symbol}</td>
                    <td>
                      <span class={`state ${r().state}`}>{r().state}</span>
                    </td>
                    <td class="muted">{clock(r().since)}</td>
                    <td>{r().msgsPerSec.toFixed(1)}</td>
                    <td>{ago(r().lastMessageAt, view().now)}</td>
                    <td>{r().gaps}</td>
                    <td>{r().tradeGaps}</td>
                    <td>{r().resyncs}</td>
                    <td>{ms(r().hopP50)}</td>
                    <td>{ms(r().hopP99)}</td>
                    <td>{ms(r().exchangeP50)}</td>
                  </tr>
                );
              }}
            </Index>
          </tbody>
        </table>
      </section>
      <section class="card" aria-label="feed events">
        <h2>Feed events</h2>
        <ol class="timeline" data-testid="timeline">
          <For each={view().events}>
            {(e) => (
              <li class={e.live ? "live" : ""}>
                <time class="muted">{new Date(e.at).toISOString().replace("T", " ").slice(0, 23)}</time>{" "}
                <strong>{e.exchange}</strong> {e.symbol ?? "(connection)"}{" "}
                <span class="event">{e.event}</span> <span class="muted">{e.detail}</span>
              </li>
            )}
          </For>
        </ol>
      </section>
    </main>
  );
}
