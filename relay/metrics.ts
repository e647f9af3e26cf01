// Relay metrics. Hot-path counters are preallocated children indexed by (exchange << 4) | kind, the same index
// the filter tables use, so counting a frame is one array load and one add.
import { type CounterChild, type Histogram, MetricsRegistry } from "../lib/metrics.ts";
import { EXCHANGE_NAMES, FRAME_ERROR_NAMES, KIND_NAMES } from "../schema/frame.ts";

/** Index of (exchange, kind); both are low nibbles of the frame's first two bytes. */
export const kindExchangeIndex = (exchange: number, kind: number): number => (exchange << 4) | kind;

export interface ConsumerGaugeSource {
  name: string;
  id: number;
  queuedBytes: number;
}

export class RelayMetrics {
  readonly registry: MetricsRegistry;
  /** Indexed by kindExchangeIndex; undefined for combinations that fail validation. */
  readonly framesIn: CounterChild[] = [];
  readonly framesOut: CounterChild[] = [];
  readonly gaps: CounterChild[] = [];
  readonly missing: CounterChild[] = [];
  readonly restarts: CounterChild[] = [];
  readonly starts: CounterChild[] = [];
  readonly seqResets: CounterChild[] = [];
  readonly collectorDisconnects: CounterChild[] = [];
  readonly invalid: CounterChild[] = [];
  readonly hopLatencyUs: Histogram;
  readonly slowDisconnects: CounterChild;
  readonly droppedFrames: CounterChild;
  readonly filterErrors: CounterChild;
  readonly socketErrors: CounterChild;
  readonly collectorsConnected;
  readonly consumersConnected;

  constructor(consumers: () => Iterable<ConsumerGaugeSource>, registry = new MetricsRegistry()) {
    this.registry = registry;
    const r = registry;
    const inC = r.counter(
      "relay_frames_in_total",
      "Valid frames received from collectors, by exchange and kind.",
    );
    const outC = r.counter(
      "relay_frames_out_total",
      "Frames queued to consumers (sum over consumers), by exchange and kind.",
    );
    for (const [ex, exchange] of Object.entries(EXCHANGE_NAMES)) {
      for (const [k, kind] of Object.entries(KIND_NAMES)) {
        const i = kindExchangeIndex(Number(ex), Number(k));
        this.framesIn[i] = inC.labels({ exchange, kind });
        this.framesOut[i] = outC.labels({ exchange, kind });
      }
    }
    const perExchange = (name: string, help: string, into: CounterChild[]) => {
      const c = r.counter(name, help);
      for (const [ex, exchange] of Object.entries(EXCHANGE_NAMES)) into[Number(ex)] = c.labels({ exchange });
    };
    perExchange(
      "relay_gaps_total",
      "Sequence gaps between a collector and the relay (RelayGap frames sent).",
      this.gaps,
    );
    perExchange("relay_missing_frames_total", "Frames missing in sequence gaps.", this.missing);
    perExchange(
      "relay_collector_starts_total",
      "CollectorStart frames seen (first start included).",
      this.starts,
    );
    perExchange(
      "relay_restarts_total",
      "Collector restarts detected (CollectorStart after earlier frames).",
      this.restarts,
    );
    perExchange(
      "relay_seq_resets_total",
      "Sequence went backwards without a CollectorStart; re-based.",
      this.seqResets,
    );
    perExchange(
      "relay_collector_disconnects_total",
      "Collector connections lost (Disconnected frames sent).",
      this.collectorDisconnects,
    );
    const inv = r.counter(
      "relay_invalid_frames_total",
      "Frames from collectors that failed validation and were dropped.",
    );
    for (const [code, reason] of Object.entries(FRAME_ERROR_NAMES))
      if (code !== "0") this.invalid[Number(code)] = inv.labels({ reason });
    this.hopLatencyUs = r.histogram(
      "relay_hop_latency_us",
      "Collector receive (tsRecv) to relay receive, sampled, in microseconds.",
      [5, 10, 20, 35, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000, 10_000, 50_000, 250_000, 1_000_000],
    );
    this.slowDisconnects = r
      .counter("relay_slow_consumer_disconnects_total", "Consumers cut for exceeding their queue.")
      .labels();
    this.droppedFrames = r
      .counter("relay_dropped_frames_total", "Frames dropped for slow consumers at the cut.")
      .labels();
    this.filterErrors = r
      .counter("relay_filter_errors_total", "Invalid filter lines from consumers (old filter kept).")
      .labels();
    this.socketErrors = r.counter("relay_socket_errors_total", "Socket errors on either side.").labels();
    this.collectorsConnected = r.gauge("relay_collectors_connected", "Collector connections open.").labels();
    this.consumersConnected = r.gauge("relay_consumers_connected", "Consumer connections open.").labels();
    r.gauge("relay_consumer_queue_bytes", "Bytes waiting in each consumer's queue.", (g) => {
      g.reset();
      for (const c of consumers()) g.set({ consumer: c.name, id: String(c.id) }, c.queuedBytes);
    });
  }
}
