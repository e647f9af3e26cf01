// Every collector exposes the same metric names, labelled by exchange, so one dashboard fits all three.
import { type CounterChild, type Gauge, MetricsRegistry } from "../../lib/metrics.ts";
import { type ExchangeName, KIND_NAMES } from "../../schema/frame.ts";

export class CollectorMetrics {
  readonly registry: MetricsRegistry;
  private readonly messagesIn;
  private readonly parseErrors;
  private readonly framesOutByKind: CounterChild[] = [];
  private readonly channelChildren = new Map<string, CounterChild>();
  private readonly errorChildren = new Map<string, CounterChild>();
  readonly reconnects: CounterChild;
  readonly gaps: CounterChild;
  readonly checksumFailures: CounterChild;
  readonly resyncs: CounterChild;
  readonly tradeGaps: CounterChild;
  readonly duplicateTrades: CounterChild;
  readonly rejectedTrades: CounterChild;
  readonly backfilledTrades: CounterChild;
  readonly backfillMissing: CounterChild;
  readonly backfillErrors: CounterChild;
  readonly unrepresentable: CounterChild;
  readonly framesDropped: CounterChild;
  readonly sendsDropped: CounterChild;
  readonly lastMessageAge: Gauge;
  readonly bufferedFrames: Gauge;
  readonly relayConnected: Gauge;

  constructor(
    readonly exchange: ExchangeName,
    registry = new MetricsRegistry(),
  ) {
    this.registry = registry;
    const ex = { exchange };
    this.messagesIn = registry.counter(
      "collector_messages_in_total",
      "Exchange messages received, by channel",
    );
    this.parseErrors = registry.counter(
      "collector_parse_errors_total",
      "Exchange messages that were malformed or unknown, counted and skipped, by reason",
    );
    const framesOut = registry.counter(
      "collector_frames_out_total",
      "Frames committed for the relay, by kind",
    );
    for (const [kind, name] of Object.entries(KIND_NAMES))
      this.framesOutByKind[Number(kind)] = framesOut.labels({ ...ex, kind: name });
    this.reconnects = registry.counter("collector_reconnects_total", "Exchange reconnects").labels(ex);
    this.gaps = registry.counter("collector_gaps_total", "Exchange sequence gaps detected").labels(ex);
    this.checksumFailures = registry
      .counter("collector_checksum_failures_total", "Book checksum mismatches")
      .labels(ex);
    this.resyncs = registry.counter("collector_resyncs_total", "Per-symbol book resyncs").labels(ex);
    this.tradeGaps = registry.counter("collector_trade_gaps_total", "Trade id gaps detected").labels(ex);
    this.duplicateTrades = registry
      .counter("collector_duplicate_trades_total", "Trades dropped as already seen (reconnect replays)")
      .labels(ex);
    this.backfilledTrades = registry
      .counter(
        "collector_backfilled_trades_total",
        "Trades fetched from the exchange's REST history to close gaps",
      )
      .labels(ex);
    this.backfillMissing = registry
      .counter(
        "collector_backfill_missing_total",
        "Trades of a gap the exchange's history no longer had (they stay a gap)",
      )
      .labels(ex);
    this.backfillErrors = registry
      .counter("collector_backfill_errors_total", "Failed REST trade-history requests (retried with backoff)")
      .labels(ex);
    this.rejectedTrades = registry
      .counter(
        "collector_rejected_trades_total",
        "Trades the exchange sent that could not be represented exactly (skipped here, not lost upstream)",
      )
      .labels(ex);
    this.unrepresentable = registry
      .counter(
        "collector_unrepresentable_total",
        "Values that do not fit the instrument's fixed point exactly",
      )
      .labels(ex);
    this.framesDropped = registry
      .counter("collector_frames_dropped_total", "Frames dropped because the relay buffer was full")
      .labels(ex);
    this.sendsDropped = registry
      .counter(
        "collector_sends_dropped_total",
        "Messages to the exchange dropped because the socket was closed",
      )
      .labels(ex);
    this.lastMessageAge = registry.gauge(
      "collector_last_message_age_seconds",
      "Seconds since a symbol last updated",
    );
    this.bufferedFrames = registry.gauge("collector_buffered_frames", "Frames waiting for the relay");
    this.relayConnected = registry.gauge(
      "collector_relay_connected",
      "1 while the relay socket is connected",
    );
  }

  /** Count one exchange message on a channel ("trade", "book", "heartbeat", ...). */
  messageIn(channel: string): void {
    let child = this.channelChildren.get(channel);
    if (!child) {
      child = this.messagesIn.labels({ exchange: this.exchange, channel });
      this.channelChildren.set(channel, child);
    }
    child.value++;
  }

  /** Count one malformed or unknown message ("malformed_json", "unknown_channel", "bad_number", ...). */
  parseError(reason: string): void {
    let child = this.errorChildren.get(reason);
    if (!child) {
      child = this.parseErrors.labels({ exchange: this.exchange, reason });
      this.errorChildren.set(reason, child);
    }
    child.value++;
  }

  frameOut(kind: number): void {
    const child = this.framesOutByKind[kind];
    if (child) child.value++;
  }
}
