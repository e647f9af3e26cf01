// A small Prometheus text-format registry: counters, gauges and histograms with fixed label sets.
// Hot paths hold a Counter child (one object per label set) and call inc(); nothing allocates per event.

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
  constructor(private readonly defaultPrefix = "tapewire_") {}

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

/** Serve /metrics (and /health) on a port; port 0 picks a free one. */
export function serveMetrics(registry: MetricsRegistry, port: number, hostname = "127.0.0.1") {
  return Bun.serve({
    port,
    hostname,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/metrics")
        return new Response(registry.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
      if (path === "/health") return Response.json({ ok: true });
      return new Response("not found\n", { status: 404 });
    },
  });
}
