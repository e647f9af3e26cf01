// makePoller: load now, then every `intervalMs` after the previous load settled (never two at once), until
// stopped. Plain TypeScript (no Solid), so it is tested without a DOM; createStrategyRun wraps it.
export interface Poller {
  /** Load again now (e.g. after the user picks another run). */
  refresh(): Promise<void>;
  stop(): void;
}

export function makePoller<T>(
  load: () => Promise<T>,
  onData: (value: T) => void,
  onError: (error: unknown) => void,
  intervalMs: number,
): Poller {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let inFlight: Promise<void> | null = null;
  const tick = (): Promise<void> => {
    clearTimeout(timer);
    inFlight ??= load()
      .then(
        (v) => {
          if (!stopped) onData(v);
        },
        (e) => {
          if (!stopped) onError(e);
        },
      )
      .finally(() => {
        inFlight = null;
        if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
      });
    return inFlight;
  };
  void tick();
  return {
    refresh: tick,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
