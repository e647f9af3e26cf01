// /health (liveness plus what is degraded) and /metrics (Prometheus). With Redis down the API keeps
// answering without cache and with logins refused; /health says "degraded". Postgres down is "down" (503).
// /metrics answers loopback clients only, or, with API_METRICS_TOKEN set, anyone sending that bearer token.
import { timingSafeEqual } from "node:crypto";
import { sql } from "drizzle-orm";
import { Elysia, t } from "elysia";
import { bearerToken } from "../../lib/jwt.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../lib/metrics.ts";
import { clientIp } from "../client-ip.ts";
import type { Database } from "../db/client.ts";
import { ForbiddenError } from "../errors.ts";
import type { ApiMetrics } from "../metrics.ts";
import type { Store } from "../store/store.ts";

const Health = t.Object(
  {
    status: t.UnionEnum(["ok", "degraded", "down"]),
    postgres: t.UnionEnum(["up", "down"]),
    redis: t.UnionEnum(["up", "down", "memory"], {
      description: "memory: REDIS_URL=memory (single process)",
    }),
    notes: t.Array(t.String()),
    uptimeS: t.Integer(),
  },
  {
    examples: [
      {
        status: "degraded",
        postgres: "up",
        redis: "down",
        notes: ["redis down: no cache, logins refused"],
        uptimeS: 42,
      },
    ],
  },
);

const Ready = t.Object(
  {
    ready: t.Boolean(),
    checks: t.Object({ postgres: t.Boolean(), redis: t.Boolean() }),
  },
  { examples: [{ ready: true, checks: { postgres: true, redis: true } }] },
);

async function postgresUp(db: Database, timeoutMs: number): Promise<boolean> {
  let timer: Timer | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("postgres health check timed out")), timeoutMs);
    });
    await Promise.race([db.execute(sql`SELECT 1`), deadline]);
    return true;
  } catch {
    return false; // reported in the body; the failing queries themselves are logged where they happen
  } finally {
    clearTimeout(timer);
  }
}

export interface MetricsAccess {
  metricsToken: string | undefined;
  trustProxy: boolean;
}

const isLoopback = (ip: string) => /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/.test(ip);

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Throws 403 unless the request may read /metrics. */
export function checkMetricsAccess(
  request: Request,
  server: Parameters<typeof clientIp>[1],
  access: MetricsAccess,
): void {
  if (access.metricsToken !== undefined) {
    const token = bearerToken(request.headers.get("authorization"));
    if (token !== undefined && sameSecret(token, access.metricsToken)) return;
    throw new ForbiddenError("/metrics needs Authorization: Bearer <API_METRICS_TOKEN>");
  }
  if (!isLoopback(clientIp(request, server, access.trustProxy)))
    throw new ForbiddenError("/metrics answers loopback clients only (or set API_METRICS_TOKEN)");
}

export function healthRoutes(db: Database, store: Store, metrics: ApiMetrics, access: MetricsAccess) {
  const started = Date.now();
  return new Elysia({ detail: { tags: ["operations"] } })
    .get(
      "/health",
      async ({ set }) => {
        const [pg, rd] = await Promise.all([postgresUp(db, 1000), store.ping(500)]);
        const notes: string[] = [];
        if (!pg) notes.push("postgres down: market data, accounts and portfolios unavailable");
        if (!rd) notes.push("redis down: no response cache, logins and token refresh refused (fail closed)");
        if (store.kind === "memory")
          notes.push("REDIS_URL=memory: cache, sessions and rate limits live in this process only");
        if (!pg) set.status = 503;
        return {
          status: !pg ? "down" : !rd ? "degraded" : "ok",
          postgres: pg ? "up" : "down",
          redis: store.kind === "memory" ? "memory" : rd ? "up" : "down",
          notes,
          uptimeS: Math.floor((Date.now() - started) / 1000),
        } as const;
      },
      {
        response: { 200: Health, 503: Health },
        detail: { summary: "Health", description: "200 ok/degraded, 503 when Postgres is down." },
      },
    )
    .get(
      "/ready",
      async ({ set }) => {
        // Able to do its job: Postgres answers and Redis does (logins and refresh fail closed without it).
        const [pg, rd] = await Promise.all([postgresUp(db, 1000), store.ping(500)]);
        const redis = store.kind === "memory" || rd;
        if (!pg || !redis) set.status = 503;
        return { ready: pg && redis, checks: { postgres: pg, redis } };
      },
      {
        response: { 200: Ready, 503: Ready },
        detail: {
          summary: "Readiness",
          description:
            "200 when Postgres and Redis answer (a load balancer's check), else 503; /health is liveness.",
        },
      },
    )
    .get(
      "/metrics",
      ({ request, server }) => {
        checkMetricsAccess(request, server, access);
        return new Response(metrics.registry.render(), {
          headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
        });
      },
      {
        detail: { summary: "Prometheus metrics", hide: true },
      },
    );
}
