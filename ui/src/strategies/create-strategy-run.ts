// createStrategyRun: one trader run's orders, fills, positions, PnL and events from the API, polled every
// couple of seconds (the trader records as it trades), and stopped with the owning component.
import { createSignal, onCleanup } from "solid-js";
import { api, call, errorText } from "../lib/api.ts";
import { makePoller } from "./poller.ts";

const POLL_MS = 2000;

async function loadRun(runId: string) {
  const run = api.strategies.runs({ runId });
  const [summary, orders, fills, positions, pnl, events] = await Promise.all([
    call(run.get()),
    call(run.orders.get({ query: { limit: 50 } })),
    call(run.fills.get({ query: { limit: 50 } })),
    call(run.positions.get()),
    call(run.pnl.get({ query: { points: 200 } })),
    call(run.events.get({ query: { limit: 30 } })),
  ]);
  return {
    summary,
    orders: orders.items,
    fills: fills.items,
    positions: positions.items,
    pnl,
    events: events.items,
  };
}

export type RunView = Awaited<ReturnType<typeof loadRun>>;

export function createStrategyRun(runId: string) {
  const [view, setView] = createSignal<RunView | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const poller = makePoller(
    () => loadRun(runId),
    (v) => {
      setView(v);
      setError(null);
    },
    (e) => setError(errorText(e)),
    POLL_MS,
  );
  onCleanup(() => poller.stop());
  return { view, error, refresh: () => poller.refresh() };
}

/** The runs list, newest first, polled so a new trader start shows up. */
export function createRuns() {
  const [runs, setRuns] = createSignal<Awaited<ReturnType<typeof loadRuns>>>([]);
  const [error, setError] = createSignal<string | null>(null);
  const poller = makePoller(
    loadRuns,
    (r) => {
      setRuns(r);
      setError(null);
    },
    (e) => setError(errorText(e)),
    POLL_MS * 2,
  );
  onCleanup(() => poller.stop());
  return { runs, error };
}

const loadRuns = async () => (await call(api.strategies.runs.get({ query: { limit: 50 } }))).items;
