// WebSocket clients: their subscriptions and the slow-client policy. State lives in ws.data (ClientData), the
// policy here; the Bun server only forwards its callbacks (server.ts), so this is testable without sockets.
//
// Slow-client policy (docs/stream-api.md): past a quarter of maxBufferedBytes unsent, a client's book and bbo
// topics pause (conflation; trades and status keep flowing); when it has drained below a sixteenth it gets the
// current book snapshot and BBO and its topics resume. A client past maxBufferedBytes, behind for longer than
// maxBehindMs, or among the largest when all clients together exceed maxTotalBufferedBytes gets a final
// {"type":"error","code":"slow_client"} and is closed (slow-clients.ts): trades are never dropped silently.
// An authenticated client is closed when its token expires or its session is revoked.
import type { Logger } from "../lib/log.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";
import type { ClientAuth } from "./auth.ts";
import { ClientSessions } from "./client-sessions.ts";
import { bboJson, bookSnapshotJson } from "./format.ts";
import type { BridgeMetrics } from "./metrics.ts";
import { CloseBudget, checkSlowClients, type SlowLimits, type SlowReason } from "./slow-clients.ts";
import { type ClientRequest, isRequestError, parseClientMessage, topicsFor } from "./subscribe.ts";
import type { Topic, TopicTable } from "./topics.ts";

export interface ClientData {
  readonly id: number;
  readonly remote: string;
  readonly topics: Set<Topic>;
  /** The accepted token's claims (BRIDGE_REQUIRE_AUTH), else null. */
  readonly auth: ClientAuth | null;
  conflated: boolean;
  closing: boolean;
  /** performance.now() since it has been behind (slow-clients.ts); 0 = not behind. */
  behindSince: number;
  expiry: Timer | null;
}

/** The parts of Bun's ServerWebSocket the hub uses. */
export interface ClientSocket {
  readonly data: ClientData;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  sendText(data: string, compress?: boolean): number;
  getBufferedAmount(): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

export interface HubLimits extends SlowLimits {
  maxSubscriptions: number;
}

export const SLOW_CLIENT_CLOSE_CODE = 4008;
/** Close codes for authenticated connections whose token ran out or whose login was ended. */
export const TOKEN_EXPIRED_CLOSE_CODE = 4001;
export const SESSION_REVOKED_CLOSE_CODE = 4003;

export class ClientHub {
  readonly clients = new Set<ClientSocket>();
  private nextId = 1;
  /** Authenticated connections by session, with their expiry timers. */
  readonly sessions = new ClientSessions<ClientSocket>();
  private readonly softLimit: number;
  private readonly resumeBelow: number;
  private readonly closing: CloseBudget;

  constructor(
    private readonly table: TopicTable,
    private readonly registry: InstrumentRegistry,
    private readonly limits: HubLimits,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {
    this.softLimit = limits.maxBufferedBytes / 4;
    this.resumeBelow = limits.maxBufferedBytes / 16;
    this.closing = new CloseBudget(limits.maxClosingBytes);
  }

  newClientData(remote: string, auth: ClientAuth | null = null): ClientData {
    return {
      id: this.nextId++,
      remote,
      topics: new Set(),
      auth,
      conflated: false,
      closing: false,
      behindSince: 0,
      expiry: null,
    };
  }

  open(ws: ClientSocket): void {
    this.clients.add(ws);
    this.metrics.clients.set(this.clients.size);
    this.sessions.add(ws, this.expire);
  }

  close(ws: ClientSocket): void {
    for (const t of ws.data.topics) if (this.active(ws, t)) t.subscribers--;
    ws.data.topics.clear();
    this.clients.delete(ws);
    this.metrics.clients.set(this.clients.size);
    this.sessions.remove(ws);
  }

  /** The session was revoked (logout, refresh-token reuse): close every connection of it. */
  readonly revokeSession = (sid: string): void => {
    for (const ws of this.sessions.of(sid)) this.end(ws, "session_revoked", SESSION_REVOKED_CLOSE_CODE);
  };

  private readonly expire = (ws: ClientSocket): void =>
    this.end(ws, "token_expired", TOKEN_EXPIRED_CLOSE_CODE);

  /** Close an authenticated connection with a final error naming why. */
  private end(ws: ClientSocket, code: "token_expired" | "session_revoked", closeCode: number): void {
    const d = ws.data;
    if (d.closing) return;
    d.closing = true;
    this.metrics.authClosed(code).inc();
    for (const t of d.topics) if (this.active(ws, t)) this.stop(ws, t);
    d.topics.clear();
    const why = code === "token_expired" ? "the access token expired" : "the session was ended";
    this.finish(
      ws,
      `{"type":"error","code":"${code}","message":"${why}; reconnect with a new token"}`,
      closeCode,
      code,
    );
  }

  /**
   * The final message and a close frame, when the bytes the closed socket goes on holding fit the close budget
   * (slow-clients.ts); otherwise terminate at once, freeing its buffer.
   */
  private finish(ws: ClientSocket, message: string, closeCode: number, reason: string): void {
    const buffered = ws.getBufferedAmount();
    if (this.closing.admit(buffered + message.length, performance.now())) {
      ws.sendText(message, false);
      ws.close(closeCode, reason);
    } else {
      this.metrics.clientsTerminated.inc();
      ws.terminate();
    }
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

  /** After every flush and once a second: the slow-client policy for every client. */
  readonly checkBackpressure = (now = performance.now()): void => {
    const verdict = checkSlowClients(this.clients, this.limits, this.resumeBelow, now, this.slow, this.pace);
    this.metrics.bufferedBytes.set(verdict.totalBuffered);
  };

  /** Conflation for a client that is not cut. */
  private readonly pace = (ws: ClientSocket, buffered: number): void => {
    const d = ws.data;
    if (d.closing) return;
    if (!d.conflated && buffered > this.softLimit) this.conflate(ws);
    else if (d.conflated && buffered < this.resumeBelow) this.resume(ws);
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

  private readonly slow = (ws: ClientSocket, reason: SlowReason = "buffer"): void => {
    const d = ws.data;
    if (d.closing) return;
    d.closing = true;
    const buffered = ws.getBufferedAmount();
    this.metrics.slowClientsClosed(reason).inc();
    this.metrics.clientErrors("slow_client").inc();
    this.log.limited("warn", `slow-${reason}`, "slow client closed", {
      client: d.id,
      remote: d.remote,
      reason,
      buffered,
    });
    // Stop publishing to it at once: nothing more is queued behind the final message.
    for (const t of d.topics) if (this.active(ws, t)) this.stop(ws, t);
    d.topics.clear();
    this.finish(
      ws,
      `{"type":"error","code":"slow_client","reason":"${reason}","message":"${SLOW_TEXT[reason]}; reconnect and subscribe again"}`,
      SLOW_CLIENT_CLOSE_CODE,
      "slow_client",
    );
  };
}

const SLOW_TEXT: Record<SlowReason, string> = {
  buffer: "more than BRIDGE_MAX_BUFFERED_BYTES were waiting for this client",
  behind: "this client stayed behind for longer than BRIDGE_MAX_BEHIND_MS",
  budget:
    "the bridge's buffer budget for all clients (BRIDGE_MAX_TOTAL_BUFFERED_BYTES) was exceeded and this client held the most",
};
