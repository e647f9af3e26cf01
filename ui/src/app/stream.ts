// The app's one bridge connection, made reactive: a status signal, a per-frame batch fan-out to the pages'
// listeners, and the union of the pages' subscriptions (status for everything is always on).
import { createSignal, onCleanup } from "solid-js";
import { getAccessToken } from "../lib/api.ts";
import type { StreamMessage, SubscribeRequest } from "../lib/messages.ts";
import { makeStreamClient, type StreamStatus } from "../lib/stream-client.ts";

export function bridgeUrl(): string {
  const params = new URLSearchParams(location.search);
  const base =
    params.get("bridge") ?? `${location.protocol === "https:" ? "wss" : "ws"}://${location.hostname}:8080/ws`;
  const token = getAccessToken();
  return token ? `${base}${base.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : base;
}

type Listener = (messages: StreamMessage[]) => void;
const listeners = new Set<Listener>();
const reconnectHooks = new Set<() => void>();
const wanted = new Map<symbol, SubscribeRequest[]>();
const [status, setStatus] = createSignal<StreamStatus>({
  state: "closed",
  attempts: 0,
  retryAt: null,
  retryInMs: null,
  lastError: null,
  opened: 0,
});
const [lastError, setLastError] = createSignal<string | null>(null);

export const stream = makeStreamClient({
  url: bridgeUrl,
  onBatch(messages) {
    for (const m of messages) if (m.type === "error") setLastError(`${m.code}: ${m.message}`);
    for (const l of listeners) l(messages);
  },
  onStatus: setStatus,
  onReconnect: () => {
    for (const h of reconnectHooks) h();
  },
});

// Counters only (messages handled, frames, batches), read by bench:ui and the browser test.
(globalThis as { __tapewireStream?: unknown }).__tapewireStream = stream.counts;

export const streamStatus = status;
export const streamError = lastError;

function resubscribe(): void {
  const all: SubscribeRequest[] = [{ op: "subscribe", kinds: ["status"] }];
  for (const reqs of wanted.values()) all.push(...reqs);
  stream.setSubscriptions(all);
}

/** Receive every frame's batch while the calling component lives. */
export function createStreamListener(fn: Listener): void {
  listeners.add(fn);
  onCleanup(() => listeners.delete(fn));
}

/** Subscriptions held while the calling component lives (replace by calling the setter again). */
export function createSubscription(): (reqs: SubscribeRequest[]) => void {
  const key = Symbol("subscription");
  onCleanup(() => {
    wanted.delete(key);
    resubscribe();
  });
  return (reqs) => {
    wanted.set(key, reqs);
    resubscribe();
  };
}

export function createReconnectHook(fn: () => void): void {
  reconnectHooks.add(fn);
  onCleanup(() => reconnectHooks.delete(fn));
}

export function startStream(): void {
  resubscribe();
  stream.start();
}
