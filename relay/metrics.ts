// Relay metrics. Hot-path counters are preallocated children indexed by (exchange << 4) | kind, the same index
// the filter tables use, so counting a frame is one array load and one add.
import { type CounterChild, type Histogram, MetricsRegistry } from "../lib/metrics.ts";
import { EXCHANGE_NAMES, FRAME_ERROR_NAMES, KIND_NAMES } from "../schema/frame.ts";
import { INGEST_KIND_NAMES } from "./feeders.ts";

/** Index of (exchange, kind); both are low nibbles of the frame's first two bytes. */
export const kindExchangeIndex = (exchange: number, kind: number): number => (exchange << 4) | kind;

/** What /metrics reads from the journal (relay/journal/journal.ts). */
export interface JournalGaugeSource {
  readonly stats: {
    bytes: number;
    segments: number;
    oldestPos: number;
    headPos: number;
    fsyncs: number;
    flushes: number;
    tornBytes: number;
    writeErrors: number;
    deletedSegments: number;
    waitingArchive: number;
  };
  /** Position after every appended frame, and after every frame written with its commit record. */
  readonly head: number;
  readonly committed: number;
  oldestSeq(ex: number): number;
  readonly seqState: { readonly jseq: Float64Array };
}

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
  readonly duplicates: CounterChild[] = [];
  readonly collectorDisconnects: CounterChild[] = [];
  readonly invalid: CounterChild[] = [];
  /** Indexed by the exchange the connection is bound to. */
  readonly foreignFrames: CounterChild[] = [];
  /** Indexed by kind * 16 + exchange (relay/feeders.ts: COLLECTOR 1, PASSTHROUGH 2; the refused kind). */
  readonly conflictFrames: CounterChild[] = [];
  readonly hopLatencyUs: Histogram;
  readonly fanoutUs: Histogram;
  readonly slowDisconnects: CounterChild;
  readonly droppedFrames: CounterChild;
  readonly filterErrors: CounterChild;
  readonly socketErrors: CounterChild;
  readonly collectorsConnected;
  readonly consumersConnected;
  readonly resumes: CounterChild;
  readonly resumeGapFrames: CounterChild;
  readonly replayedFrames: CounterChild;
  readonly acksSent: CounterChild;

  constructor(
    consumers: () => Iterable<ConsumerGaugeSource>,
    registry = new MetricsRegistry(),
    journal: () => JournalGaugeSource | null = () => null,
  ) {
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
      "relay_duplicate_frames_total",
      "Frames a collector resent that the relay already had (seq behind the expected one): dropped.",
      this.duplicates,
    );
    perExchange(
      "relay_collector_disconnects_total",
      "Collector connections lost (Disconnected frames sent).",
      this.collectorDisconnects,
    );
    perExchange(
      "relay_foreign_frames_total",
      "Frames refused for carrying another exchange's id than the collector connection is bound to (by bound exchange).",
      this.foreignFrames,
    );
    const conflict = r.counter(
      "relay_ingest_conflict_frames_total",
      "Frames refused because the other ingest kind feeds their exchange (ingest = the refused kind: collector or passthrough).",
    );
    for (const [ex, exchange] of Object.entries(EXCHANGE_NAMES))
      for (const [kind, ingest] of Object.entries(INGEST_KIND_NAMES))
        this.conflictFrames[Number(kind) * 16 + Number(ex)] = conflict.labels({ exchange, ingest });
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
    this.fanoutUs = r.histogram(
      "relay_fanout_us",
      "One collector read in the relay: validate, journal append, write to every consumer; sampled, in microseconds.",
      [1, 2, 5, 10, 20, 35, 50, 100, 250, 500, 1000, 2500, 5000, 10_000],
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
    this.resumes = r
      .counter("relay_resumes_total", "Consumers that asked to start from a journal position.")
      .labels();
    this.resumeGapFrames = r
      .counter(
        "relay_resume_gap_frames_total",
        "Resume positions older than the journal holds (gap frames sent).",
      )
      .labels();
    this.replayedFrames = r
      .counter("relay_replayed_frames_total", "Journal frames sent to resuming consumers.")
      .labels();
    this.acksSent = r
      .counter("relay_acks_total", "Ack frames sent to collectors (journaled up to a seq).")
      .labels();
    const stat = (name: string, help: string, read: (j: JournalGaugeSource) => number) =>
      r.gauge(name, help, (g) => {
        const j = journal();
        if (j) g.labels().set(read(j));
      });
    stat("relay_journal_bytes", "Bytes of frames in the journal's segments.", (j) => j.stats.bytes);
    stat("relay_journal_segments", "Journal segment files.", (j) => j.stats.segments);
    stat(
      "relay_journal_oldest_position",
      "Global position of the oldest journaled frame.",
      (j) => j.stats.oldestPos,
    );
    stat(
      "relay_journal_head_position",
      "Global position after the newest frame appended to the journal (pending writes included).",
      (j) => j.head,
    );
    stat(
      "relay_journal_committed_position",
      "Global position after the newest frame written with its commit record (what acks cover).",
      (j) => j.committed,
    );
    stat("relay_journal_fsyncs", "fsyncs of the journal so far.", (j) => j.stats.fsyncs);
    stat(
      "relay_journal_flushes",
      "Journal flushes (writes + commit records) so far.",
      (j) => j.stats.flushes,
    );
    stat(
      "relay_journal_torn_bytes",
      "Bytes cut from a torn journal tail at start-up.",
      (j) => j.stats.tornBytes,
    );
    stat(
      "relay_journal_write_errors",
      "Failed journal writes so far (a full or failing disk): each is retried; nothing past it is acknowledged.",
      (j) => j.stats.writeErrors,
    );
    stat(
      "relay_journal_deleted_segments",
      "Segments deleted by retention so far.",
      (j) => j.stats.deletedSegments,
    );
    stat(
      "relay_journal_waiting_archive_segments",
      "Segments past retention kept because the archiver has not marked them (.archived).",
      (j) => j.stats.waitingArchive,
    );
    r.gauge("relay_journal_oldest_seq", "Journal seq of the oldest frame held, per exchange.", (g) => {
      const j = journal();
      if (!j) return;
      for (const [ex, exchange] of Object.entries(EXCHANGE_NAMES))
        g.set({ exchange }, j.oldestSeq(Number(ex)));
    });
    r.gauge("relay_journal_head_seq", "Next journal seq per exchange.", (g) => {
      const j = journal();
      if (!j) return;
      for (const [ex, exchange] of Object.entries(EXCHANGE_NAMES))
        g.set({ exchange }, j.seqState.jseq[Number(ex)]!);
    });
    r.gauge("relay_consumer_queue_bytes", "Bytes waiting in each consumer's queue.", (g) => {
      g.reset();
      for (const c of consumers()) g.set({ consumer: c.name, id: String(c.id) }, c.queuedBytes);
    });
  }
}
