// Import: a durable JetStream pull consumer (explicit ack) feeding the local relay's ingest socket, one
// connection per exchange, so the local relay journals the frames and serves them to its consumers with its
// own sequence, gap and status semantics. A message is acknowledged to JetStream only after the local relay
// acknowledged its last frame (link/ingest-link.ts). After a restart the consumer is re-pointed at its ack
// floor, so what was delivered but not acknowledged comes again at once (the relay drops what it already has).
import {
  AckPolicy,
  type ConsumerMessages,
  connect,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from "nats";
import { createLogger } from "../lib/log.ts";
import type { Readiness } from "../lib/metrics.ts";
import { EXCHANGES, type ExchangeName, FRAME_SIZE, FrameOffset, Kind, Status } from "../schema/frame.ts";
import type { LinkConfig } from "./config.ts";
import { IngestLink, seqAtOrBefore } from "./ingest-link.ts";
import { ImportMetrics, type ImportState, importReadiness } from "./metrics.ts";
import { connectOptions, exchangeOfSubject, isNotFound, payloadSeq } from "./stream.ts";

/** The message starts a collector run: a Status CollectorStart frame with seq 0. */
const isRunStart = (data: Uint8Array): boolean =>
  (data[FrameOffset.kindFlags]! & 0x0f) === Kind.Status &&
  data[FrameOffset.kindFlags]! >> 4 === Status.CollectorStart &&
  payloadSeq(data, 0) === 0;

const log = createLogger({ service: "link-import" });
const NS_PER_MS = 1_000_000;

export interface Importer {
  readonly messages: number;
  /** Frames skipped because this process already passed them on (a redelivered message). */
  readonly skipped: number;
  readonly framesWritten: number;
  /** Messages delivered but not yet acknowledged by the local relay. */
  readonly unacknowledged: number;
  readonly metrics: ImportMetrics;
  /** NATS up and every relay connection up: /ready. */
  ready(): Readiness;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Create the durable consumer, or re-point it at its ack floor when it has unacknowledged deliveries (always,
 * with `force`).
 */
export async function prepareConsumer(jsm: JetStreamManager, cfg: LinkConfig, force = false): Promise<void> {
  const exchanges = cfg.exchanges.length ? (cfg.exchanges as ExchangeName[]) : EXCHANGES;
  const base = {
    durable_name: cfg.durable,
    ack_policy: AckPolicy.Explicit,
    // One filter subject (servers before 2.10 take no list): the exchange's, or every exchange's; handle()
    // acknowledges and skips exchanges this importer was not asked for.
    filter_subject: `${cfg.subjectPrefix}.${exchanges.length === 1 ? exchanges[0] : "*"}.${
      cfg.importFrom === "collector" ? "collector" : "all"
    }`,
    max_ack_pending: cfg.maxAckPending,
    ack_wait: 30_000 * NS_PER_MS,
  };
  try {
    const info = await jsm.consumers.info(cfg.stream, cfg.durable);
    if (info.num_ack_pending === 0 && !force) return;
    const start = info.ack_floor.stream_seq + 1;
    log.info("re-pointing the consumer at its ack floor", { durable: cfg.durable, start });
    await jsm.consumers.delete(cfg.stream, cfg.durable);
    await jsm.consumers.add(cfg.stream, {
      ...base,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(cfg.stream, { ...base, deliver_policy: DeliverPolicy.All });
  }
}

/** How often the durable consumer's server-side state is read for the metrics. */
const CONSUMER_POLL_MS = 5_000;

class LinkImporter implements Importer, ImportState {
  messages = 0;
  skipped = 0;
  private readonly links = new Map<ExchangeName, IngestLink>();
  /** Next seq per exchange this process has passed on (redelivery filter; the relay dedupes as well). */
  private readonly next = new Map<ExchangeName, number>();
  private iter: ConsumerMessages | null = null;
  /** Bumped per consume: deliveries of an older one are dropped. */
  private generation = 0;
  /** Per exchange, messages waiting behind a collector restart (see handle). */
  private readonly held = new Map<ExchangeName, JsMsg[]>();
  private repointing = false;
  /** Stream seq of the last message that started past the expected seq (a hole seen twice there is real). */
  private holeAt = -1;
  /** Times the consumer was re-pointed at its ack floor after a hole. */
  repoints = 0;
  private closed = false;
  private done: Promise<void> = Promise.resolve();
  private readonly wanted: readonly ExchangeName[];
  natsConnected = true;
  private poll: ReturnType<typeof setInterval> | null = null;
  /** exchangeOfSubject per subject seen (a handful): not a split and search per message. */
  private readonly subjects = new Map<string, ExchangeName | undefined>();
  private jsm: JetStreamManager | null = null;

  constructor(
    private readonly cfg: LinkConfig,
    private readonly nc: NatsConnection,
    readonly metrics: ImportMetrics,
  ) {
    this.wanted = cfg.exchanges.length ? (cfg.exchanges as ExchangeName[]) : EXCHANGES;
    metrics.source = this;
    void this.watchStatus();
  }

  /** NATS up or down, for /ready and the metrics; the client reconnects by itself. */
  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect") this.natsConnected = false;
      else if (s.type === "reconnect") {
        this.natsConnected = true;
        this.metrics.natsReconnects.inc();
      }
    }
    this.natsConnected = false; // closed
  }

  *relayLinks(): Iterable<{ exchange: string; connected: boolean; unacknowledged: number }> {
    for (const l of this.links.values())
      yield { exchange: l.exchange, connected: l.connected, unacknowledged: l.unacknowledged };
  }

  ready(): Readiness {
    return importReadiness(this);
  }

  /** The durable consumer as the server sees it (lag, ack pending, redeliveries): polled, not per message. */
  private async readConsumer(): Promise<void> {
    try {
      this.jsm ??= await this.nc.jetstreamManager();
      const info = await this.jsm.consumers.info(this.cfg.stream, this.cfg.durable);
      this.metrics.consumerPending.set(info.num_pending);
      this.metrics.consumerAckPending.set(info.num_ack_pending);
      this.metrics.consumerRedelivered.set(info.num_redelivered);
    } catch (error) {
      if (this.closed) return;
      const m = this.metrics;
      for (const g of [m.consumerPending, m.consumerAckPending, m.consumerRedelivered]) g.set(-1);
      log.limited("warn", "consumer-info", "durable consumer info unreadable", { error: String(error) });
    }
  }

  get framesWritten(): number {
    let n = 0;
    for (const l of this.links.values()) n += l.framesWritten;
    return n;
  }
  get unacknowledged(): number {
    let n = 0;
    for (const l of this.links.values()) n += l.unacknowledged;
    return n;
  }

  async start(): Promise<void> {
    await this.consume();
    this.done = this.run();
    void this.readConsumer();
    this.poll = setInterval(() => void this.readConsumer(), CONSUMER_POLL_MS);
    this.poll.unref?.();
  }

  /**
   * Deliveries come to a callback, each socket read's messages in one synchronous pass (the async iterator
   * cost a promise and a generator resume per message). A stopped consume's late deliveries are dropped by
   * its generation: unacknowledged, they come again.
   */
  private async consume(): Promise<ConsumerMessages> {
    const consumer = await this.nc.jetstream().consumers.get(this.cfg.stream, this.cfg.durable);
    const gen = ++this.generation;
    this.iter = await consumer.consume({
      max_messages: Math.min(this.cfg.maxAckPending, 256),
      callback: (m) => {
        if (gen === this.generation && !this.closed && !this.repointing) this.handle(m);
      },
    });
    return this.iter;
  }

  /** Deliveries until closed; after a hole, the consumer is re-pointed at its ack floor and consumed again. */
  private async run(): Promise<void> {
    for (let iter = this.iter!; ; ) {
      await iter.closed();
      if (this.closed) return;
      this.generation++;
      this.repointing = false;
      this.repoints++;
      this.metrics.repoints.inc();
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          await prepareConsumer(await this.nc.jetstreamManager(), this.cfg, true);
          iter = await this.consume();
          break;
        } catch (error) {
          log.limited("warn", "repoint", "re-pointing the consumer failed; retrying", {
            error: String(error),
          });
          await Bun.sleep(Math.min(2000, 100 * 2 ** attempt));
        }
      }
      if (this.closed) return;
    }
  }

  /**
   * A message that starts past the next seq expected: JetStream redelivers a message it lost on the way only
   * after the ack wait, and meanwhile delivers newer ones. Passing those on would turn a late message into a
   * gap, so the consumer is re-pointed at its ack floor and everything after it comes again in stream order.
   * The same hole at the same stream message after that is real (the stream no longer holds the frames):
   * it is passed on, and the relay reports it as a Gap frame with the exact count.
   */
  private isLate(m: JsMsg, data: Uint8Array, next: number | undefined, code: number): boolean {
    if (next === undefined) return false;
    const ahead = (payloadSeq(data, 0) - next) >>> 0;
    if (ahead === 0 || ahead >= 2 ** 31) return false;
    const at = m.info.streamSequence;
    if (this.holeAt === at) {
      this.metrics.gaps[code]!.inc(); // real: passed on, the relay writes one Gap frame for it
      this.metrics.gapFrames[code]!.inc(ahead);
      return false;
    }
    log.warn("delivery ahead of the sequence; re-pointing the consumer at its ack floor", {
      subject: m.subject,
      expected: next,
      got: payloadSeq(data, 0),
      streamSeq: at,
    });
    this.holeAt = at;
    this.repointing = true;
    this.iter?.stop();
    return true;
  }

  private link(ex: ExchangeName): IngestLink {
    let l = this.links.get(ex);
    if (l === undefined) {
      // An exporting relay's frames keep its seq (pass-through); collectors' frames are ingested as from a collector.
      l = new IngestLink(
        this.cfg.importFrom === "collector" ? this.cfg.relayIn : this.cfg.relayPassthrough,
        ex,
        this.metrics.relayReconnects[EXCHANGES.indexOf(ex) + 1],
      );
      this.links.set(ex, l);
    }
    return l;
  }

  /** One delivery; `again` = a held message handled now (counted when it came). */
  private handle(m: JsMsg, again = false): void {
    if (!again) this.messages++;
    const subject = m.subject;
    let ex = this.subjects.get(subject);
    if (ex === undefined && !this.subjects.has(subject)) {
      ex = exchangeOfSubject(this.cfg.subjectPrefix, subject);
      if (this.subjects.size < 1024) this.subjects.set(subject, ex);
    }
    const data = m.data;
    if (ex !== undefined && !this.wanted.includes(ex)) {
      m.ack();
      return;
    }
    if (ex === undefined || data.byteLength % FRAME_SIZE !== 0 || data.byteLength === 0) {
      log.limited("warn", "bad-message", "message that is not a frame batch skipped", {
        subject: m.subject,
        bytes: data.byteLength,
      });
      m.term();
      return;
    }
    const frames = data.byteLength / FRAME_SIZE;
    const code = EXCHANGES.indexOf(ex) + 1;
    const metrics = this.metrics;
    if (!again) {
      metrics.messages[code]!.inc();
      metrics.frames[code]!.inc(frames);
    }
    const held = this.held.get(ex);
    if (held !== undefined) return void held.push(m); // behind a collector restart that waits
    let first = 0;
    if (isRunStart(data)) {
      // A collector restarted (its seq starts again at 0): the previous run's frames must be acknowledged by
      // the relay first (acks name one run's seqs), then the new run starts with a fresh skip position.
      const link = this.link(ex);
      if (link.unacknowledged > 0) {
        this.held.set(ex, [m]);
        link.whenIdle(() => this.release(ex));
        return;
      }
      this.next.delete(ex);
    }
    const next = this.next.get(ex);
    if (this.repointing || this.isLate(m, data, next, code)) return; // not acknowledged: it comes again
    // Frames are in seq order within a message: skip the prefix this process already wrote.
    if (next !== undefined)
      while (first < frames && seqAtOrBefore(payloadSeq(data, first), (next - 1) >>> 0)) first++;
    this.skipped += first;
    if (first > 0) {
      metrics.redelivered[code]!.inc();
      metrics.skipped[code]!.inc(first);
    }
    const last = payloadSeq(data, frames - 1);
    if (first < frames) this.next.set(ex, (last + 1) % 4294967296);
    const passed = frames - first;
    this.link(ex).send(data.subarray(first * FRAME_SIZE), first < frames ? last : undefined, () => {
      m.ack();
      metrics.acks[code]!.inc();
      metrics.framesAcked[code]!.inc(passed);
    });
  }

  /** The relay acknowledged the previous run: handle what waited, in order (it may wait again). */
  private release(ex: ExchangeName): void {
    const list = this.held.get(ex) ?? [];
    this.held.delete(ex);
    this.next.delete(ex);
    for (let i = 0; i < list.length; i++) {
      const again = this.held.get(ex);
      if (again !== undefined) {
        again.push(...list.slice(i));
        return;
      }
      this.handle(list[i]!, true); // the first is the run start: its link is idle now, a fresh run
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poll) clearInterval(this.poll);
    this.iter?.stop();
    await this.done.catch(() => {});
    for (const l of this.links.values()) l.close();
    await this.nc.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Connect to NATS, prepare the durable consumer, and start feeding the local relay. */
export async function startImporter(
  cfg: LinkConfig,
  metrics: ImportMetrics = new ImportMetrics(),
): Promise<Importer> {
  const nc = await connect(connectOptions(cfg.natsUrl, `tapewire-link-import-${process.pid}`));
  await prepareConsumer(await nc.jetstreamManager(), cfg);
  const importer = new LinkImporter(cfg, nc, metrics);
  await importer.start();
  return importer;
}
