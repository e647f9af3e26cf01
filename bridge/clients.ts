// WebSocket clients: their subscriptions and the slow-client policy. State lives in ws.data (ClientData), the
// policy here; the Bun server only forwards its callbacks (server.ts), so this is testable without sockets.
//
// Slow-client policy (docs/stream-api.md): past a quarter of maxBufferedBytes unsent, a client's book and bbo
// topics pause (conflation; trades and status keep flowing); when it has drained below a sixteenth it gets the
// current book snapshot and BBO and its topics resume. Past maxBufferedBytes it gets a final
// {"type":"error","code":"slow_client"} and is closed: trades are never dropped silently.
import type { Logger } from "../lib/log.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";
import { bboJson, bookSnapshotJson } from "./format.ts";
import type { BridgeMetrics } from "./metrics.ts";
import { type ClientRequest, isRequestError, parseClientMessage, topicsFor } from "./subscribe.ts";
import type { Topic, TopicTable } from "./topics.ts";

export interface ClientData {
  readonly id: number;
  readonly remote: string;
  readonly topics: Set<Topic>;
  conflated: boolean;
  closing: boolean;
}

/** The parts of Bun's ServerWebSocket the hub uses. */
export interface ClientSocket {
  readonly data: ClientData;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  sendText(data: string, compress?: boolean): number;
  getBufferedAmount(): number;
  close(code?: number, reason?: string): void;
}

export interface HubLimits {
  maxBufferedBytes: number;
  maxSubscriptions: number;
}

export const SLOW_CLIENT_CLOSE_CODE = 4008;

export class ClientHub {
  readonly clients = new Set<ClientSocket>();
  private nextId = 1;
  private readonly softLimit: number;
  private readonly resumeBelow: number;

  constructor(
    private readonly table: TopicTable,
    private readonly registry: InstrumentRegistry,
    private readonly limits: HubLimits,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {
    this.softLimit = limits.maxBufferedBytes / 4;
    this.resumeBelow = limits.maxBufferedBytes / 16;
  }

  newClientData(remote: string): ClientData {
    return { id: this.nextId++, remote, topics: new Set(), conflated: false, closing: false };
  }

  open(ws: ClientSocket): void {
    this.clients.add(ws);
    this.metrics.clients.set(this.clients.size);
  }

  close(ws: ClientSocket): void {
    for (const t of ws.data.topics) if (this.active(ws, t)) t.subscribers--;
    ws.data.topics.clear();
    this.clients.delete(ws);
    this.metrics.clients.set(this.clients.size);
  }

  message(ws: ClientSocket, raw: string | Uint8Array): void {
    if (typeof raw !== "string") {
      this.error(ws, "bad_request", "send JSON text, not binary");
      return;
    }
    const req = parseClientMessage(raw, this.registry);
    if (isRequestError(req)) {
      this.error(ws, req.code, req.message, req.unknown);
      return;
    }
    if (req.op === "subscribe") this.subscribe(ws, req);
    else this.unsubscribe(ws, req);
  }

  private subscribe(ws: ClientSocket, req: ClientRequest): void {
    const d = ws.data;
    const fresh = topicsFor(req, this.table).filter((t) => !d.topics.has(t));
    if (d.topics.size + fresh.length > this.limits.maxSubscriptions) {
      this.error(
        ws,
        "too_many_subscriptions",
        `this would hold ${d.topics.size + fresh.length} topics; the limit is ${this.limits.maxSubscriptions}`,
      );
      return;
    }
    for (const t of fresh) {
      d.topics.add(t);
      if (this.active(ws, t)) this.start(ws, t);
    }
    this.send(ws, `{"type":"subscribed","topics":${d.topics.size},"added":${fresh.length}}`);
    if (!d.conflated) for (const t of fresh) this.sendState(ws, t);
  }

  private unsubscribe(ws: ClientSocket, req: ClientRequest): void {
    const d = ws.data;
    const all = !req.exchanges.length && !req.symbols.length && !req.kinds.length;
    const gone = all ? [...d.topics] : topicsFor(req, this.table).filter((t) => d.topics.has(t));
    for (const t of gone) {
      if (this.active(ws, t)) this.stop(ws, t);
      d.topics.delete(t);
    }
    this.send(ws, `{"type":"unsubscribed","topics":${d.topics.size},"removed":${gone.length}}`);
  }

  /** A conflated client does not receive its book and bbo topics until it catches up. */
  private active(ws: ClientSocket, t: Topic): boolean {
    return !(ws.data.conflated && (t.kind === "book" || t.kind === "bbo"));
  }

  private start(ws: ClientSocket, t: Topic): void {
    ws.subscribe(t.name);
    t.subscribers++;
  }

  private stop(ws: ClientSocket, t: Topic): void {
    ws.unsubscribe(t.name);
    t.subscribers--;
  }

  /** The current book and BBO, so a client starts from state rather than deltas it cannot apply. */
  private sendState(ws: ClientSocket, t: Topic): void {
    const e = t.symbol;
    if (!e.instrument) return;
    if (t.kind === "book") {
      const json = bookSnapshotJson(e);
      if (json) this.send(ws, json);
    } else if (t.kind === "bbo" && (e.bboState.hasBid || e.bboState.hasAsk)) {
      this.send(ws, bboJson(e));
    }
  }

  private send(ws: ClientSocket, json: string): void {
    // 0 = dropped: the client is past Bun's backpressure limit, so it is too slow for anything more.
    if (ws.sendText(json, false) === 0) this.slow(ws);
  }

  private error(ws: ClientSocket, code: string, message: string, unknown?: object): void {
    this.metrics.clientErrors(code).inc();
    const extra = unknown ? `,"unknown":${JSON.stringify(unknown)}` : "";
    this.send(ws, `{"type":"error","code":"${code}","message":${JSON.stringify(message)}${extra}}`);
  }

  /** After every flush: apply the slow-client policy to each client. */
  readonly checkBackpressure = (): void => {
    for (const ws of this.clients) {
      const d = ws.data;
      if (d.closing) continue;
      const buffered = ws.getBufferedAmount();
      if (buffered > this.limits.maxBufferedBytes) this.slow(ws);
      else if (!d.conflated && buffered > this.softLimit) this.conflate(ws);
      else if (d.conflated && buffered < this.resumeBelow) this.resume(ws);
    }
  };

  drain(ws: ClientSocket): void {
    if (ws.data.conflated && !ws.data.closing && ws.getBufferedAmount() < this.resumeBelow) this.resume(ws);
  }

  private conflate(ws: ClientSocket): void {
    const d = ws.data;
    for (const t of d.topics) if (t.kind === "book" || t.kind === "bbo") this.stop(ws, t);
    d.conflated = true;
    this.metrics.conflations.inc();
    this.log.limited("info", `conflate-${d.id}`, "slow client: book and bbo paused", {
      client: d.id,
      remote: d.remote,
    });
  }

  private resume(ws: ClientSocket): void {
    const d = ws.data;
    d.conflated = false;
    for (const t of d.topics) {
      if (t.kind === "book" || t.kind === "bbo") {
        this.start(ws, t);
        this.sendState(ws, t);
      }
    }
  }

  private slow(ws: ClientSocket): void {
    const d = ws.data;
    if (d.closing) return;
    d.closing = true;
    this.metrics.slowClientsClosed.inc();
    this.metrics.clientErrors("slow_client").inc();
    this.log.warn("slow client closed", { client: d.id, remote: d.remote, buffered: ws.getBufferedAmount() });
    // Stop publishing to it at once: nothing more is queued behind the final message.
    for (const t of d.topics) if (this.active(ws, t)) this.stop(ws, t);
    d.topics.clear();
    ws.sendText(
      `{"type":"error","code":"slow_client","message":"more than ${this.limits.maxBufferedBytes} bytes were waiting for this client; reconnect and subscribe again"}`,
      false,
    );
    ws.close(SLOW_CLIENT_CLOSE_CODE, "slow_client");
  }
}
