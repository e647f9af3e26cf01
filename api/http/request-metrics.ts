// Request count and latency per route template (bounded label set: unmatched paths share one label).
import { Elysia } from "elysia";
import type { ApiMetrics } from "../metrics.ts";

export function requestMetrics(metrics: ApiMetrics) {
  const started = new WeakMap<Request, number>();
  return new Elysia({ name: "tapewire-request-metrics" })
    .onRequest(({ request }) => {
      started.set(request, performance.now());
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
      const start = started.get(request);
      if (start !== undefined) metrics.latency.observe((performance.now() - start) / 1000);
      const status = typeof set.status === "number" ? set.status : 200;
      metrics.requests.inc({ route: route || "unmatched", status: `${Math.floor(status / 100)}xx` });
    });
}
