// Binance-only metrics, registered once per collector registry beside the shared collector metrics.
import type { CounterChild, GaugeChild } from "../../lib/metrics.ts";
import type { CollectorMetrics } from "../core/metrics.ts";

export class BinanceMetrics {
  private readonly restRequests;
  private readonly restByStatus = new Map<string, CounterChild>();
  readonly usedWeight: GaugeChild;
  readonly weightWaits: CounterChild;
  readonly controlResponses: CounterChild;
  readonly exchangeErrors: CounterChild;
  /** Diffs already contained in the book (u <= book id): ignored, as Binance documents. */
  readonly staleDiffs: CounterChild;
  /** Diffs dropped while a symbol waited for its snapshot longer than the buffer holds. */
  readonly bufferDropped: CounterChild;
  readonly snapshots: CounterChild;

  constructor(private readonly core: CollectorMetrics) {
    const r = core.registry;
    const ex = { exchange: core.exchange };
    this.restRequests = r.counter("collector_rest_requests_total", "REST snapshot requests, by HTTP status");
    this.usedWeight = r
      .gauge("collector_rest_used_weight", "Request weight used this minute (X-MBX-USED-WEIGHT-1M)")
      .labels(ex);
    this.weightWaits = r
      .counter(
        "collector_rest_weight_waits_total",
        "Snapshot requests held back to stay within the weight limit",
      )
      .labels(ex);
    this.controlResponses = r
      .counter("collector_control_responses_total", "Responses to SUBSCRIBE/keepalive requests")
      .labels(ex);
    this.exchangeErrors = r
      .counter("collector_exchange_errors_total", "Error responses from the exchange ({error:{code,msg},id})")
      .labels(ex);
    this.staleDiffs = r
      .counter("collector_stale_diffs_total", "Book diffs already contained in the book, ignored")
      .labels(ex);
    this.bufferDropped = r
      .counter("collector_sync_buffer_dropped_total", "Book diffs dropped from a full pre-snapshot buffer")
      .labels(ex);
    this.snapshots = r.counter("collector_snapshots_total", "Book snapshots applied").labels(ex);
  }

  restRequest(status: string): void {
    let child = this.restByStatus.get(status);
    if (!child) {
      child = this.restRequests.labels({ exchange: this.core.exchange, status });
      this.restByStatus.set(status, child);
    }
    child.inc();
  }

  private static readonly cache = new WeakMap<CollectorMetrics, BinanceMetrics>();
  /** One instance per collector: metric names may only be registered once per registry. */
  static for(core: CollectorMetrics): BinanceMetrics {
    let m = BinanceMetrics.cache.get(core);
    if (!m) {
      m = new BinanceMetrics(core);
      BinanceMetrics.cache.set(core, m);
    }
    return m;
  }
}
