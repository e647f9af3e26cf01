// A small Prometheus text-format registry: counters, gauges and histograms with fixed label sets.
// Hot paths hold a Counter child (one object per label set) and call inc(); nothing allocates per event.
// Every process serves it with serveMetrics (or probeResponse on its own port): /metrics, /health (alive),
// /ready (able to do its job, from the process's own check). /metrics binds loopback by default; binding
// another address needs TAPEWIRE_METRICS_TOKEN, which /metrics then requires as a bearer token.
import { timingSafeEqual } from "node:crypto";
import { currentCpuList } from "./affinity.ts";
import { defineConfig, type Env, string } from "./config.ts";

type Labels = Record<string, string>;

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
  ) {}
  abstract render(out: string[]): void;
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

export class CounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class Counter extends Metric {
  private readonly children = new Map<string, { labels: string; child: CounterChild }>();
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  /** The child for one label set; keep it and call inc() on the hot path. */
  labels(labels: Labels = {}): CounterChild {
    const key = labelText(labels);
    let entry = this.children.get(key);
    if (!entry) {
      entry = { labels: key, child: new CounterChild() };
      this.children.set(key, entry);
    }
    return entry.child;
  }
  inc(labels: Labels = {}, by = 1): void {
    this.labels(labels).inc(by);
  }
  render(out: string[]): void {
    for (const { labels, child } of this.children.values()) out.push(`${this.name}${labels} ${child.value}`);
  }
}

export class GaugeChild {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(by = 1): void {
    this.value += by;
  }
  dec(by = 1): void {
    this.value -= by;
  }
}

export class Gauge extends Metric {
  private readonly children = new Map<string, { labels: string; child: GaugeChild }>();
  private collector?: () => void;
  constructor(name: string, help: string, collect?: (gauge: Gauge) => void) {
    super(name, help, "gauge");
    if (collect) this.collector = () => collect(this);
  }
  labels(labels: Labels = {}): GaugeChild {
    const key = labelText(labels);
    let entry = this.children.get(key);
    if (!entry) {
      entry = { labels: key, child: new GaugeChild() };
      this.children.set(key, entry);
    }
    return entry.child;
  }
  set(labels: Labels, v: number): void {
    this.labels(labels).set(v);
  }
  /** Forget every child (for gauges recomputed at scrape time over a changing label set). */
  reset(): void {
    this.children.clear();
  }
  render(out: string[]): void {
    this.collector?.();
    for (const { labels, child } of this.children.values()) out.push(`${this.name}${labels} ${child.value}`);
  }
}

/** Fixed-bucket histogram (cumulative on render). Values in the unit the name states. */
export class Histogram extends Metric {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, "histogram");
    this.counts = new Float64Array(buckets.length + 1);
  }
  observe(v: number): void {
    let i = 0;
    while (i < this.buckets.length && v > this.buckets[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
  render(out: string[]): void {
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += this.counts[i]!;
      out.push(`${this.name}_bucket{le="${this.buckets[i]}"} ${cumulative}`);
    }
    out.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    out.push(`${this.name}_sum ${this.sum}`);
    out.push(`${this.name}_count ${this.count}`);
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  /** With processMetrics (the default), memory, CPU and start time of this process, for the memory alerts. */
  constructor(
    private readonly defaultPrefix = "tapewire_",
    processMetrics = true,
  ) {
    if (processMetrics) addProcessMetrics(this);
  }

  counter(name: string, help: string): Counter {
    return this.add(new Counter(this.defaultPrefix + name, help));
  }
  gauge(name: string, help: string, collect?: (gauge: Gauge) => void): Gauge {
    return this.add(new Gauge(this.defaultPrefix + name, help, collect));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(this.defaultPrefix + name, help, buckets));
  }
  private add<M extends Metric>(metric: M): M {
    if (this.metrics.some((m) => m.name === metric.name))
      throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.push(metric);
    return metric;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics) {
      out.push(`# HELP ${m.name} ${m.help}`);
      out.push(`# TYPE ${m.name} ${m.type}`);
      m.render(out);
    }
    return `${out.join("\n")}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const STARTED_S = Date.now() / 1000 - process.uptime();

function addProcessMetrics(r: MetricsRegistry): void {
  r.gauge("process_resident_memory_bytes", "Resident set size of this process", (g) => {
    g.labels().set(process.memoryUsage.rss());
  });
  r.gauge("process_heap_used_bytes", "JavaScript heap in use", (g) => {
    g.labels().set(process.memoryUsage().heapUsed);
  });
  r.gauge("process_cpu_seconds", "User plus system CPU time used since start (a counter; rate() it)", (g) => {
    const u = process.cpuUsage();
    g.labels().set((u.user + u.system) / 1e6);
  });
  r.gauge("process_start_time_seconds", "Start time of this process, seconds since the epoch")
    .labels()
    .set(STARTED_S);
  // The CPUs the kernel lets this process run on (TAPEWIRE_CPUS_<PROCESS>, lib/affinity.ts); absent off Linux.
  r.gauge("process_cpu_affinity", "1 for the CPU list this process may run on (Cpus_allowed_list)", (g) => {
    const cpus = currentCpuList();
    g.reset();
    if (cpus !== null) g.labels({ cpus }).set(1);
  });
}

export const metricsConfig = defineConfig("every process (lib/metrics.ts)", {
  host: string("TAPEWIRE_METRICS_HOST", {
    default: "127.0.0.1",
    meaning:
      "address the /metrics, /health, /ready listener binds; a non-loopback one needs TAPEWIRE_METRICS_TOKEN",
  }),
  token: string("TAPEWIRE_METRICS_TOKEN", {
    default: undefined,
    secret: true,
    pattern: /^\S{16,}$/,
    expected: "at least 16 characters without spaces",
    meaning: "when set, /metrics answers only `Authorization: Bearer <token>` (/health and /ready stay open)",
  }),
});

/** A process's readiness: `ready` false answers 503; `checks` says which part is not ready. */
export interface Readiness {
  ready: boolean;
  checks?: Record<string, boolean | string | number>;
}

export interface ProbeOptions {
  /** Able to do its job (connected upstream, database reachable). Without it /ready is /health. */
  ready?: () => Readiness | Promise<Readiness>;
  /** Extra fields for /health. */
  health?: () => Record<string, unknown>;
  /** Required as a bearer token for /metrics; default TAPEWIRE_METRICS_TOKEN. */
  token?: string;
  /** Answer /metrics without a token only to loopback callers (a listener shared with the public). */
  loopbackOnly?: boolean;
}

export class MetricsExposureError extends Error {
  override readonly name = "MetricsExposureError";
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === "::1" || address === "localhost" || /^(::ffff:)?127\./.test(address);
}

/**
 * The probe routes for any Bun server: a Response for /metrics, /health, /ready, else undefined. `remote` is the
 * caller's address (server.requestIP), for loopbackOnly.
 */
export async function probeResponse(
  req: Request,
  registry: MetricsRegistry,
  opts: ProbeOptions = {},
  remote?: string,
): Promise<Response | undefined> {
  const path = new URL(req.url).pathname;
  if (path === "/metrics") {
    const token = opts.token;
    if (token !== undefined) {
      const given = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
      if (!given || !sameText(given, token))
        return Response.json(
          { error: "/metrics needs Authorization: Bearer <TAPEWIRE_METRICS_TOKEN>" },
          { status: 401 },
        );
    } else if (opts.loopbackOnly && !isLoopbackAddress(remote)) {
      return Response.json(
        { error: "/metrics is served to loopback only (set TAPEWIRE_METRICS_TOKEN)" },
        { status: 403 },
      );
    }
    return new Response(registry.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
  }
  if (path === "/health")
    return Response.json({ ok: true, uptimeS: Math.round(process.uptime()), ...opts.health?.() });
  if (path === "/ready") {
    let state: Readiness;
    try {
      state = opts.ready ? await opts.ready() : { ready: true, checks: {} };
    } catch (error) {
      state = { ready: false, checks: { error: (error as Error).message } };
    }
    return Response.json(
      { ready: state.ready, checks: state.checks ?? {} },
      { status: state.ready ? 200 : 503 },
    );
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface ServeMetricsOptions extends ProbeOptions {
  /** Default TAPEWIRE_METRICS_HOST (127.0.0.1). */
  hostname?: string;
  env?: Env;
}

/**
 * Serve /metrics, /health and /ready on a port; port 0 picks a free one. A non-loopback address without a
 * token is refused at start: metrics name internals an outsider should not read.
 */
export function serveMetrics(
  registry: MetricsRegistry,
  port: number,
  options: string | ServeMetricsOptions = {},
) {
  const opts: ServeMetricsOptions = typeof options === "string" ? { hostname: options } : options;
  const config = metricsConfig.read(opts.env ?? process.env);
  const hostname = opts.hostname ?? config.host;
  const probe: ProbeOptions = { ...opts, token: opts.token ?? config.token };
  if (!isLoopbackAddress(hostname) && probe.token === undefined) {
    throw new MetricsExposureError(
      `metrics on ${hostname}:${port} would be open to the network: set TAPEWIRE_METRICS_TOKEN or bind 127.0.0.1`,
    );
  }
  return Bun.serve({
    port,
    hostname,
    async fetch(req) {
      return (await probeResponse(req, registry, probe)) ?? new Response("not found\n", { status: 404 });
    },
  });
}
