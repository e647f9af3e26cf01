// The browser-facing server: WebSockets on /ws (origin check, client cap, optional token), plus /metrics,
// /health and /ready on the same port (/metrics only to loopback callers unless TAPEWIRE_METRICS_TOKEN is set,
// since this port may face the network). Connection state lives in ws.data; the policy in ClientHub.
import type { Server } from "bun";
import { type MetricsRegistry, probeResponse, type Readiness } from "../lib/metrics.ts";
import type { Authorizer } from "./auth.ts";
import type { ClientData, ClientHub } from "./clients.ts";
import type { BridgeMetrics } from "./metrics.ts";

export interface WsServerOptions {
  port: number;
  hostname: string;
  hub: ClientHub;
  metrics: BridgeMetrics;
  registry: MetricsRegistry;
  allowedOrigins: readonly string[];
  maxClients: number;
  maxBufferedBytes: number;
  maxMessageBytes: number;
  /** When set, /ws requires ?token=... and this must accept it. */
  authorize?: Authorizer;
  /** Extra fields for /health. */
  health?: () => Record<string, unknown>;
  ready?: () => Promise<Readiness>;
  /** TAPEWIRE_METRICS_TOKEN: required for /metrics when set. */
  metricsToken?: string;
}

const REFUSED = {
  bad_token: [401, "invalid or expired access token"],
  session_revoked: [401, "this login was ended (logout or token reuse): log in again"],
  session_check: [503, "the session cannot be checked right now (Redis): try again"],
} as const;

export function startWsServer(o: WsServerOptions): Server<ClientData> {
  const origins = new Set(o.allowedOrigins);
  let upgrading = 0;
  const refuse = (reason: string, status: number, text: string) => {
    o.metrics.clientsRejected(reason).inc();
    return new Response(`${text}\n`, { status });
  };
  return Bun.serve<ClientData>({
    port: o.port,
    hostname: o.hostname,
    async fetch(req, server) {
      const url = new URL(req.url);
      if (url.pathname === "/ws") {
        // Browsers always send Origin; other clients may not, and could forge it anyway, so absence is allowed.
        const origin = req.headers.get("origin");
        if (origins.size > 0 && origin !== null && !origins.has(origin)) {
          return refuse("origin", 403, `origin ${origin} is not allowed (BRIDGE_ALLOWED_ORIGINS)`);
        }
        if (o.hub.clients.size + upgrading >= o.maxClients) {
          return refuse("max_clients", 503, `the bridge has its maximum of ${o.maxClients} clients`);
        }
        let auth: ClientData["auth"] = null;
        if (o.authorize) {
          const token = url.searchParams.get("token");
          if (!token) return refuse("no_token", 401, "missing ?token=<access token>");
          upgrading++;
          let outcome: Awaited<ReturnType<Authorizer>>;
          try {
            outcome = await o.authorize(token);
          } finally {
            upgrading--;
          }
          if (!outcome.ok) {
            const [status, text] = REFUSED[outcome.reason];
            return refuse(outcome.reason, status, text);
          }
          auth = outcome.auth;
        }
        const remote = server.requestIP(req)?.address ?? "unknown";
        if (server.upgrade(req, { data: o.hub.newClientData(remote, auth) })) return undefined;
        return refuse("not_websocket", 400, "expected a WebSocket upgrade");
      }
      const probe = await probeResponse(
        req,
        o.registry,
        {
          token: o.metricsToken,
          loopbackOnly: true,
          ready: o.ready,
          health: () => ({ clients: o.hub.clients.size, ...o.health?.() }),
        },
        server.requestIP(req)?.address,
      );
      return probe ?? new Response("not found\n", { status: 404 });
    },
    websocket: {
      open: (ws) => o.hub.open(ws),
      message: (ws, msg) => o.hub.message(ws, msg),
      drain: (ws) => o.hub.drain(ws),
      close: (ws) => o.hub.close(ws),
      maxPayloadLength: o.maxMessageBytes,
      // The hub closes a client past maxBufferedBytes with a message; Bun's own limit sits well above that and
      // closes rather than silently drops if a single burst ever overshoots it.
      backpressureLimit: o.maxBufferedBytes + (16 << 20),
      closeOnBackpressureLimit: true,
      perMessageDeflate: false,
      idleTimeout: 120,
      sendPings: true,
    },
  });
}
