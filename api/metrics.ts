// The API's Prometheus metrics, created once per process (or per test app) on one registry.
import { type Counter, type Histogram, MetricsRegistry } from "../lib/metrics.ts";

export interface ApiMetrics {
  registry: MetricsRegistry;
  /** Requests by route template and status class. */
  requests: Counter;
  latency: Histogram;
  errors: ReturnType<Counter["labels"]>;
  cache: Counter;
  redisErrors: ReturnType<Counter["labels"]>;
  logins: Counter;
  refreshReuse: ReturnType<Counter["labels"]>;
  orders: Counter;
  fills: Counter;
  matcherErrors: ReturnType<Counter["labels"]>;
}

export function createApiMetrics(registry = new MetricsRegistry()): ApiMetrics {
  const requests = registry.counter("api_requests_total", "HTTP requests by route and status");
  const errors = registry.counter("api_errors_total", "Unexpected errors answered as 500");
  const cache = registry.counter(
    "api_cache_total",
    "Response cache lookups: local (process copy), hit (Redis), stale (served while refreshing), miss, bypass (store down)",
  );
  const redisErrors = registry.counter("api_redis_errors_total", "Redis commands that failed");
  const refreshReuse = registry.counter(
    "api_refresh_reuse_total",
    "Refresh tokens presented twice (family revoked)",
  );
  const matcherErrors = registry.counter("api_matcher_errors_total", "Paper matcher passes that failed");
  return {
    registry,
    requests,
    latency: registry.histogram(
      "api_request_seconds",
      "HTTP request latency",
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ),
    errors: errors.labels(),
    cache,
    redisErrors: redisErrors.labels(),
    logins: registry.counter("api_logins_total", "Login attempts by result"),
    refreshReuse: refreshReuse.labels(),
    orders: registry.counter("api_orders_total", "Paper orders by type and result"),
    fills: registry.counter("api_fills_total", "Paper fills by liquidity (maker, taker)"),
    matcherErrors: matcherErrors.labels(),
  };
}
