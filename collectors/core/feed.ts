// One exchange WebSocket connection owned end to end: connect, subscribe, keepalive, idle and age limits,
// reconnect with capped exponential backoff and jitter. The venue adapter only sees messages.
import { Status } from "../../schema/frame.ts";
import type { CollectorContext } from "./context.ts";
import type { VenueAdapter } from "./types.ts";

export interface FeedOptions {
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Connections that stayed up this long reset the backoff. */
  stableMs?: number;
  /** Each raw message, before parsing (the --record hook). */
  onRaw?(text: string): void;
}

export class ExchangeFeed {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private openedAt = 0;
  private lastMessageAt = 0;
  private stopped = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  connections = 0;

  constructor(
    private readonly adapter: VenueAdapter,
    private readonly ctx: CollectorContext,
    private readonly options: FeedOptions = {},
  ) {
    ctx.setTransport(
      (text) => this.send(text),
      (reason) => this.restart(reason),
    );
  }

  start(): void {
    this.watchdog = setInterval(() => this.checkHealth(), 250);
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.adapter.url();
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch (error) {
      this.ctx.log.error("cannot open exchange socket", { url, error });
      this.scheduleReconnect("bad_url");
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.connections++;
      this.openedAt = Date.now();
      this.lastMessageAt = this.openedAt;
      this.ctx.log.info("exchange connected", { url });
      this.ctx.emitter.status(Status.Connected, 0, this.connections, 0);
      this.adapter.onOpen?.(this.ctx);
      for (const message of this.adapter.subscribeMessages()) ws.send(message);
      const ping = this.adapter.ping;
      if (ping && this.adapter.pingIntervalMs) {
        this.pingTimer = setInterval(() => this.send(ping.call(this.adapter)), this.adapter.pingIntervalMs);
      }
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      this.ctx.emitter.markReceived();
      this.lastMessageAt = Date.now();
      const data = event.data;
      const text = typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer);
      this.options.onRaw?.(text);
      this.handle(text);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.closed(`close ${event.code} ${event.reason}`.trim());
    };
    ws.onerror = () => {
      // onclose follows with the code; nothing to do twice.
    };
  }

  /** Hand one message to the adapter; an exception there is a bug, counted, never fatal. */
  handle(text: string): void {
    try {
      this.adapter.onMessage(text, this.ctx);
    } catch (error) {
      this.ctx.emitter.rollback();
      this.ctx.metrics.parseError("handler_exception");
      this.ctx.log.limited("error", "handler_exception", "adapter threw on a message", {
        error,
        message: text.slice(0, 300),
      });
    }
  }

  private send(text: string): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(text);
    return true;
  }

  private closed(reason: string): void {
    const wasOpen = this.openedAt > 0;
    this.ws = null;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    if (wasOpen) {
      this.ctx.emitter.status(Status.Disconnected, 0, this.connections, 0);
      this.adapter.onClose?.(this.ctx);
      if (Date.now() - this.openedAt >= (this.options.stableMs ?? 30_000)) this.attempt = 0;
    }
    this.openedAt = 0;
    this.ctx.log.warn("exchange disconnected", { reason });
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    if (this.stopped || this.reconnectTimer) return;
    const min = this.options.backoffMinMs ?? 250;
    const max = this.options.backoffMaxMs ?? 30_000;
    // "Equal jitter": half fixed, half random, so a fleet of collectors does not reconnect in lock step.
    const base = Math.min(max, min * 2 ** this.attempt);
    const delay = base / 2 + (Math.random() * base) / 2;
    this.attempt++;
    this.ctx.metrics.reconnects.inc();
    this.ctx.log.info("reconnecting", { reason, attempt: this.attempt, delayMs: Math.round(delay) });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  /** Drop the connection and reconnect (adapter request, idle timeout, age limit). */
  restart(reason: string): void {
    const ws = this.ws;
    if (!ws) return;
    this.closed(reason);
    try {
      ws.close(1000, reason.slice(0, 100));
    } catch {
      // already closing
    }
  }

  private checkHealth(): void {
    const now = Date.now();
    this.ctx.staleTracker.check(now);
    if (!this.ws || this.openedAt === 0) return;
    if (now - this.lastMessageAt > this.adapter.idleTimeoutMs) this.restart("idle_timeout");
    else if (this.adapter.maxConnectionMs && now - this.openedAt > this.adapter.maxConnectionMs)
      this.restart("max_age");
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    const ws = this.ws;
    this.ws = null;
    // Let the adapter release its own timers and in-flight work; the books are no longer trustworthy.
    if (ws && this.openedAt > 0) this.adapter.onClose?.(this.ctx);
    this.openedAt = 0;
    ws?.close(1000, "shutdown");
  }
}
