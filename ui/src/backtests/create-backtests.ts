// The reactive side of the Backtests page: the runs list and one run's results, polled from the API (every
// second while a run is queued or running, slower once all are finished) and stopped with the component.
import { createSignal, onCleanup } from "solid-js";
import { api, call, errorText } from "../lib/api.ts";
import { makePoller } from "../strategies/poller.ts";

const BUSY_MS = 1000;
const IDLE_MS = 5000;

const loadList = () => call(api.backtests.get({ query: { limit: 50 } }));
const loadRun = (id: string) => call(api.backtests({ backtestId: id }).get());

export type BacktestRun = Awaited<ReturnType<typeof loadList>>[number];
export type BacktestDetail = Awaited<ReturnType<typeof loadRun>>;
export type NewBacktest = Parameters<typeof api.backtests.post>[0];

const busy = (status: string) => status === "queued" || status === "running";

export function createBacktests() {
  const [runs, setRuns] = createSignal<BacktestRun[]>([]);
  const [error, setError] = createSignal<string | null>(null);
  let poller = start(IDLE_MS);
  function start(ms: number) {
    return makePoller(
      loadList,
      (list) => {
        setRuns(list);
        setError(null);
        const want = list.some((r) => busy(r.status)) ? BUSY_MS : IDLE_MS;
        if (want !== ms) {
          poller.stop();
          poller = start(want);
        }
      },
      (e) => setError(errorText(e)),
      ms,
    );
  }
  onCleanup(() => poller.stop());
  return {
    runs,
    error,
    /** Start one; resolves with the queued run (or throws the API's words). */
    async start(body: NewBacktest): Promise<BacktestRun> {
      const run = await call(api.backtests.post(body));
      await poller.refresh();
      return run;
    },
  };
}

export function createBacktest(id: string) {
  const [run, setRun] = createSignal<BacktestDetail | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const poller = makePoller(
    () => loadRun(id),
    (r) => {
      setRun(r);
      setError(null);
      if (!busy(r.status)) poller.stop(); // finished runs do not change
    },
    (e) => setError(errorText(e)),
    BUSY_MS,
  );
  onCleanup(() => poller.stop());
  return { run, error };
}
