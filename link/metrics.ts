// Link metrics (/metrics, prefix tapewire_link_; link/README.md, "Monitoring"). Counters are preallocated
// children indexed by exchange code and bumped once per JetStream message or per relay ack, never per frame;
// gauges that describe state (in flight, ack pending, connected) are read from the process at scrape time.
import { type CounterChild, type GaugeChild, MetricsRegistry, type Readiness } from "../lib/metrics.ts";
import { EXCHANGE_NAMES } from "../schema/frame.ts";

function perExchange(r: MetricsRegistry, name: string, help: string): CounterChild[] {
  const c = r.counter(name, help);
  const out: CounterChild[] = [];
  for (const [ex, exchange] of Object.entries(EXCHANGE_NAMES)) out[Number(ex)] = c.labels({ exchange });
  return out;
}

/** Why a publish failed: the NATS client's error code, in four buckets. */
export type PublishFailure = "timeout" | "no_responders" | "connection" | "other";
export function publishFailure(error: unknown): PublishFailure {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "TIMEOUT" || code === "408") return "timeout";
  if (code === "503") return "no_responders";
  if (typeof code === "string" && (code.startsWith("CONNECTION") || code === "DISCONNECT"))
    return "connection";
  return "other";
}

/** What the exporter's gauges read at scrape time. */
export interface ExportState {
  readonly inFlight: number;
  readonly queued: number;
  readonly natsConnected: boolean;
  readonly relayConnected: boolean;
  /** The relay feed is closed on purpose: publishes are behind (it reopens once they catch up). */
  readonly paused: boolean;
}

export class ExportMetrics {
  readonly registry: MetricsRegistry;
  /** Indexed by exchange code. */
  readonly messages: CounterChild[];
  readonly frames: CounterChild[];
  readonly duplicates: CounterChild[];
  readonly lastSeq: GaugeChild[] = [];
  readonly failures: Record<PublishFailure, CounterChild>;
  readonly reconnects: CounterChild;
  readonly feedPauses: CounterChild;
  /** Set by the exporter once it exists (before that every gauge reads 0). */
  source: ExportState | null = null;

  constructor(registry = new MetricsRegistry()) {
    this.registry = registry;
    const r = registry;
    this.messages = perExchange(
      r,
      "link_export_messages_total",
      "Messages JetStream acknowledged (PubAck), re-sent duplicates included.",
    );
    this.frames = perExchange(r, "link_export_frames_total", "Frames in messages JetStream acknowledged.");
    this.duplicates = perExchange(
      r,
      "link_export_duplicate_messages_total",
      "Publishes JetStream acknowledged as duplicates (a re-send inside the dedupe window): stored once.",
    );
    const last = r.gauge(
      "link_export_last_seq",
      "Relay journal seq (u32) of the last frame of the newest message JetStream acknowledged (-1 = none yet).",
    );
    for (const [ex, exchange] of Object.entries(EXCHANGE_NAMES)) {
      this.lastSeq[Number(ex)] = last.labels({ exchange });
      this.lastSeq[Number(ex)]!.set(-1);
    }
    const failed = r.counter(
      "link_export_publish_failures_total",
      "Publishes that failed (each stops the feed; the exporter reconnects and resumes from the stream).",
    );
    this.failures = {
      timeout: failed.labels({ reason: "timeout" }),
      no_responders: failed.labels({ reason: "no_responders" }),
      connection: failed.labels({ reason: "connection" }),
      other: failed.labels({ reason: "other" }),
    };
    this.reconnects = r
      .counter(
        "link_export_reconnects_total",
        "Fresh NATS connections after a failure, each followed by a re-read of the stored position.",
      )
      .labels();
    this.feedPauses = r
      .counter(
        "link_export_feed_pauses_total",
        "Relay feed closed because publishes were behind (reopened from the position reached).",
      )
      .labels();
    const state = (name: string, help: string, read: (s: ExportState) => number) =>
      r.gauge(name, help, (g) => g.labels().set(this.source ? read(this.source) : 0));
    state("link_export_publishes_in_flight", "Publishes waiting for their JetStream ack.", (s) => s.inFlight);
    state(
      "link_export_queued_messages",
      "Sealed messages waiting behind the in-flight bound.",
      (s) => s.queued,
    );
    state("link_export_nats_connected", "1 while the NATS connection is up and publishing.", (s) =>
      s.natsConnected ? 1 : 0,
    );
    state("link_export_relay_connected", "1 while the relay feed (consumer socket) is connected.", (s) =>
      s.relayConnected ? 1 : 0,
    );
  }
}

/** What the importer's gauges read at scrape time. */
export interface ImportState {
  readonly natsConnected: boolean;
  /** Per exchange with a relay connection: connected, and messages waiting for the relay's ack. */
  relayLinks(): Iterable<{ exchange: string; connected: boolean; unacknowledged: number }>;
}

export class ImportMetrics {
  readonly registry: MetricsRegistry;
  /** Indexed by exchange code. */
  readonly messages: CounterChild[];
  readonly frames: CounterChild[];
  readonly redelivered: CounterChild[];
  readonly skipped: CounterChild[];
  readonly framesAcked: CounterChild[];
  readonly acks: CounterChild[];
  readonly gaps: CounterChild[];
  readonly gapFrames: CounterChild[];
  readonly relayReconnects: CounterChild[];
  readonly repoints: CounterChild;
  readonly natsReconnects: CounterChild;
  /** The durable consumer as the server reports it (polled), -1 until known. */
  readonly consumerPending: GaugeChild;
  readonly consumerAckPending: GaugeChild;
  readonly consumerRedelivered: GaugeChild;
  source: ImportState | null = null;

  constructor(registry = new MetricsRegistry()) {
    this.registry = registry;
    const r = registry;
    this.messages = perExchange(
      r,
      "link_import_messages_total",
      "JetStream messages delivered (redeliveries included).",
    );
    this.frames = perExchange(r, "link_import_frames_total", "Frames in JetStream messages delivered.");
    this.redelivered = perExchange(
      r,
      "link_import_redelivered_messages_total",
      "Messages delivered again whose frames this process had already passed on (some or all skipped).",
    );
    this.skipped = perExchange(
      r,
      "link_import_skipped_frames_total",
      "Frames skipped as already passed on (in redelivered messages).",
    );
    this.framesAcked = perExchange(
      r,
      "link_import_frames_acked_total",
      "Frames passed on and acknowledged by the local relay (journaled there).",
    );
    this.acks = perExchange(
      r,
      "link_import_acks_total",
      "JetStream messages acknowledged (after the local relay acknowledged their last frame).",
    );
    this.gaps = perExchange(
      r,
      "link_import_gaps_total",
      "Holes passed on to the relay (frames the stream no longer holds; the relay writes one Gap frame each).",
    );
    this.gapFrames = perExchange(r, "link_import_gap_frames_total", "Frames missing in those holes.");
    this.relayReconnects = perExchange(
      r,
      "link_import_relay_reconnects_total",
      "Relay ingest connections opened again after one was lost (unacknowledged frames resent).",
    );
    this.repoints = r
      .counter(
        "link_import_repoints_total",
        "Times the durable consumer was re-pointed at its ack floor (a delivery ran ahead of the sequence).",
      )
      .labels();
    this.natsReconnects = r.counter("link_import_nats_reconnects_total", "NATS client reconnects.").labels();
    this.consumerPending = r
      .gauge(
        "link_import_consumer_pending_messages",
        "Stream messages not yet delivered to the durable consumer (server view, polled): the import's lag.",
      )
      .labels();
    this.consumerAckPending = r
      .gauge(
        "link_import_consumer_ack_pending",
        "Messages delivered and not acknowledged (server view, polled).",
      )
      .labels();
    this.consumerRedelivered = r
      .gauge(
        "link_import_consumer_redelivered",
        "Messages being redelivered and not acknowledged (server view, polled).",
      )
      .labels();
    for (const g of [this.consumerPending, this.consumerAckPending, this.consumerRedelivered]) g.set(-1);
    r.gauge("link_import_ack_pending", "Messages waiting for the local relay's ack, per exchange.", (g) => {
      for (const l of this.source?.relayLinks() ?? []) g.set({ exchange: l.exchange }, l.unacknowledged);
    });
    r.gauge(
      "link_import_relay_connected",
      "1 while the relay ingest connection is up, per exchange.",
      (g) => {
        for (const l of this.source?.relayLinks() ?? []) g.set({ exchange: l.exchange }, l.connected ? 1 : 0);
      },
    );
    r.gauge("link_import_nats_connected", "1 while the NATS connection is up.", (g) =>
      g.labels().set(this.source?.natsConnected ? 1 : 0),
    );
  }
}

/** /ready of an importer: NATS up and every relay connection it has up (none before its first message). */
export function importReadiness(s: ImportState | null): Readiness {
  if (s === null) return { ready: false, checks: { started: false } };
  let links = 0;
  let down = 0;
  for (const l of s.relayLinks()) {
    links++;
    if (!l.connected) down++;
  }
  return {
    ready: s.natsConnected && down === 0,
    checks: { nats: s.natsConnected, relay: down === 0, relayConnections: links, relayDown: down },
  };
}

/** /ready of an exporter: NATS up and the relay feed connected (or paused on purpose, publishes behind). */
export function exportReadiness(s: ExportState | null): Readiness {
  if (s === null) return { ready: false, checks: { started: false } };
  const relay = s.relayConnected || s.paused;
  return { ready: s.natsConnected && relay, checks: { nats: s.natsConnected, relay, paused: s.paused } };
}
