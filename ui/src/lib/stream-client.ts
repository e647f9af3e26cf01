// makeStreamClient: the bridge WebSocket, reconnecting with capped exponential backoff (with jitter) and
// resending the current subscriptions after each reconnect. Incoming text is queued as it arrives and parsed
// and handed over in one batch per animation frame, so a burst of thousands of messages costs one render.
// Plain TypeScript: the scheduler and the WebSocket constructor are injectable, so it runs under bun:test.
import type { StreamMessage, SubscribeRequest } from "./messages.ts";

export type ConnectionState = "connecting" | "open" | "closed";

export interface StreamStatus {
  state: ConnectionState;
  /** Reconnect attempts since the last successful open. */
  attempts: number;
  /** When the next attempt starts (ms epoch), while closed. */
  retryAt: number | null;
  /** The backoff chosen for that retry. */
  retryInMs: number | null;
  /** Why the last connection ended (close code/reason, or the bridge's error message). */
  lastError: string | null;
  /** Connections opened so far (a reconnect is opened > 1). */
  opened: number;
}

export interface StreamClientOptions {
  /** Called on every (re)connect: the token may have rotated since. */
  url: () => string;
  onBatch: (messages: StreamMessage[]) => void;
  onStatus?: (s: StreamStatus) => void;
  /** Called after a reconnect once the subscriptions are resent (the chart reloads missed candles). */
  onReconnect?: () => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  schedule?: (run: () => void) => void;
  WebSocket?: typeof WebSocket;
  random?: () => number;
}

const defaultSchedule = (run: () => void): void => {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => run());
  else setTimeout(run, 16);
};

export function makeStreamClient(opts: StreamClientOptions) {
  const WS = opts.WebSocket ?? globalThis.WebSocket;
  const schedule = opts.schedule ?? defaultSchedule;
  const minMs = opts.minBackoffMs ?? 250;
  const maxMs = opts.maxBackoffMs ?? 10_000;
  const random = opts.random ?? Math.random;
  let ws: WebSocket | null = null;
  let subscriptions: SubscribeRequest[] = [];
  let queue: string[] = [];
  let scheduled = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const status: StreamStatus = {
    state: "closed",
    attempts: 0,
    retryAt: null,
    retryInMs: null,
    lastError: null,
    opened: 0,
  };
  /** Messages parsed and handed over, and WebSocket frames received (one frame may hold an array). */
  const counts = { messages: 0, frames: 0, batches: 0, parseErrors: 0 };

  const publish = () => opts.onStatus?.({ ...status });

  function flush(): void {
    scheduled = false;
    const texts = queue;
    queue = [];
    const out: StreamMessage[] = [];
    for (const text of texts) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        counts.parseErrors++;
        continue;
      }
      if (Array.isArray(value)) for (const m of value) out.push(m as StreamMessage);
      else out.push(value as StreamMessage);
    }
    counts.messages += out.length;
    counts.batches++;
    if (out.length) opts.onBatch(out);
  }

  function send(payload: unknown): void {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(payload));
  }

  function connect(): void {
    timer = null;
    status.state = "connecting";
    status.retryAt = null;
    publish();
    const socket = new WS(opts.url());
    ws = socket;
    socket.onopen = () => {
      if (ws !== socket) return;
      const reconnected = status.opened > 0;
      status.state = "open";
      status.attempts = 0;
      status.opened++;
      for (const s of subscriptions) send(s);
      publish();
      if (reconnected) opts.onReconnect?.();
    };
    socket.onmessage = (ev: MessageEvent) => {
      if (ws !== socket || typeof ev.data !== "string") return;
      counts.frames++;
      queue.push(ev.data);
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    };
    socket.onclose = (ev: CloseEvent) => {
      if (ws !== socket) return;
      ws = null;
      status.lastError = `closed ${ev.code}${ev.reason ? `: ${ev.reason}` : ""}`;
      if (stopped) {
        status.state = "closed";
        publish();
        return;
      }
      const delay = Math.min(maxMs, minMs * 2 ** status.attempts) * (0.5 + random() / 2);
      status.attempts++;
      status.state = "closed";
      status.retryAt = Date.now() + delay;
      status.retryInMs = delay;
      publish();
      timer = setTimeout(connect, delay);
    };
  }

  return {
    start(): void {
      stopped = false;
      if (!ws && !timer) connect();
    },
    /** Replace every subscription (sent now if open, and after each reconnect). */
    setSubscriptions(next: SubscribeRequest[]): void {
      subscriptions = next;
      send({ op: "unsubscribe" });
      for (const s of next) send(s);
    },
    /** Close and reconnect now (a new token). */
    reconnect(): void {
      if (timer) clearTimeout(timer);
      timer = null;
      const old = ws;
      ws = null;
      old?.close(1000, "reconnect");
      connect();
    },
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      ws?.close(1000, "bye");
      ws = null;
      status.state = "closed";
      publish();
    },
    get status(): StreamStatus {
      return { ...status };
    },
    counts,
  };
}

export type StreamClient = ReturnType<typeof makeStreamClient>;
