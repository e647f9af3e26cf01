// Export: a relay consumer that packs the relay's 48-byte frames, unchanged, into JetStream messages (one
// subject per exchange, link/README.md). Bounded: at most maxInFlight publishes wait for their JetStream ack
// and as many batches wait behind them; beyond that the relay feed is closed and reopened later from the
// position reached, so the relay's journal holds the backlog, not this process. A failed publish stops the
// feed, waits for every publish in flight to settle, reads the stored position back from the stream and
// resumes there: what JetStream holds is the truth, and message ids make a re-send a no-op.
import {
  connect,
  createInbox,
  type JetStreamManager,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type NatsError,
} from "nats";
import { createLogger } from "../lib/log.ts";
import type { Readiness } from "../lib/metrics.ts";
import { connectRelayConsumer, type RelayConsumer } from "../relay/client.ts";
import { nowNs } from "../schema/clock.ts";
import {
  EXCHANGE_NAMES,
  EXCHANGES,
  type ExchangeName,
  FRAME_SIZE,
  frameExchange,
  frameKind,
  frameSeq,
  frameStatus,
  Kind,
  Status,
} from "../schema/frame.ts";
import type { LinkConfig } from "./config.ts";
import {
  ExportMetrics,
  type ExportState,
  exportReadiness,
  type PublishFailure,
  publishFailure,
} from "./metrics.ts";
import { connectOptions, ensureStream, messageId, payloadSeq, storedPosition, subjectFor } from "./stream.ts";

const log = createLogger({ service: "link-export" });

interface Pending {
  /** Exchange code (metrics index) and name (subject, message id). */
  ex: number;
  exchange: ExchangeName;
  data: Uint8Array;
  firstSeq: number;
  /** performance.now() when published (the ack timeout). */
  sentAt: number;
}

/** A publish JetStream did not acknowledge within this long fails (and the exporter recovers). */
const PUBLISH_TIMEOUT_MS = 5_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The Nats-Msg-Id header block, the bytes nats.js's headers().set(...).encode() gives: its publish reads a
 * message's headers only through encode(), so the block is built once per message from one string instead of
 * a header map with per-key validation (the dedupe test in link.test.ts fails if the id does not arrive).
 */
class MsgIdHeader {
  constructor(private readonly id: string) {}
  encode(): Uint8Array {
    return encoder.encode(`NATS/1.0\r\nNats-Msg-Id: ${this.id}\r\n\r\n`);
  }
}

/** A failure with the NATS client's error codes (publishFailure buckets them). */
const natsFailure = (message: string, code: string): Error => Object.assign(new Error(message), { code });

export interface Exporter {
  /** Frames handed to JetStream and acknowledged by it (duplicates included). */
  readonly framesStored: number;
  readonly messagesStored: number;
  /** Publishes JetStream reported as duplicates (a re-send inside the dedupe window). */
  readonly duplicates: number;
  readonly inFlight: number;
  /** Feed restarts after a failed publish. */
  readonly recoveries: number;
  readonly metrics: ExportMetrics;
  /** NATS up and the relay feed connected (or paused on purpose): /ready. */
  ready(): Readiness;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** One open batch per exchange code: a preallocated buffer, filled in place. */
class Batch {
  readonly buf: Uint8Array;
  frames = 0;
  firstSeq = 0;
  /** Frames taken but not copied yet: one run of adjacent frames in one source buffer, copied in one go. */
  runSrc: Uint8Array | null = null;
  runFrom = 0;
  runEnd = 0;
  runAt = 0;
  constructor(maxFrames: number) {
    this.buf = new Uint8Array(maxFrames * FRAME_SIZE);
  }
}

function copyRun(b: Batch): void {
  if (b.runSrc === null) return;
  b.buf.set(b.runSrc.subarray(b.runFrom, b.runEnd), b.runAt);
  b.runSrc = null;
}

class LinkExporter implements Exporter, ExportState {
  framesStored = 0;
  messagesStored = 0;
  duplicates = 0;
  inFlight = 0;
  recoveries = 0;
  private readonly waiting: Pending[] = [];
  private readonly batches: Batch[] = [];
  /** Next seq per exchange code of the frames taken so far (-1 = none yet): where a reopened feed starts. */
  private readonly next = new Float64Array(16).fill(-1);
  private feed: RelayConsumer | null = null;
  private generation = 0;
  private flushScheduled = false;
  /** performance.now() when partly filled messages last went out (flushPartial). */
  private lastPartial = Number.NEGATIVE_INFINITY;
  private endScheduled = false;
  private failed = false;
  private closed = false;
  private readonly startNs = String(BigInt(Math.floor(nowNs())));
  private settleWaiters: Array<() => void> = [];
  private srcBuffer: ArrayBufferLike | null = null;
  private src: Uint8Array = new Uint8Array(0);

  private nc: NatsConnection;
  private jsm: JetStreamManager;
  /**
   * Publishes waiting for their PubAck, by reply token, oldest first. The PubAcks come to one subscription of
   * this connection (reply subject = inbox + token) and one timer checks the oldest's age: no request object,
   * promise, timer or stack-trace Error per publish as nats.js's JetStream publish makes.
   */
  private readonly awaiting = new Map<number, Pending>();
  private token = 0;
  private inbox = "";
  private readonly ackTimer: ReturnType<typeof setInterval>;

  constructor(
    private readonly cfg: LinkConfig,
    nc: NatsConnection,
    jsm: JetStreamManager,
    readonly metrics: ExportMetrics,
  ) {
    for (let ex = 0; ex < 16; ex++) this.batches.push(new Batch(cfg.batchFrames));
    metrics.source = this;
    this.nc = nc;
    this.jsm = jsm;
    this.watch(nc);
    this.ackTimer = setInterval(this.expire, 500);
  }

  /**
   * The connection never reconnects by itself (connectOnce): a reconnecting client would send the publishes it
   * buffered while away after ones the server lost with the old connection, leaving a hole in the stream. What
   * a server took from one connection is a prefix of what was sent on it, so a fresh connection that resumes
   * from the stored position keeps the stream gap-free.
   */
  private watch(nc: NatsConnection): void {
    this.inbox = `${createInbox()}.`;
    const inbox = this.inbox;
    nc.subscribe(`${inbox}*`, { callback: (_err, m) => this.onAck(nc, inbox, m) });
    void nc.closed().then(() => {
      if (this.nc !== nc) return;
      if (!this.closed) this.fail(natsFailure("NATS connection closed", "CONNECTION_CLOSED"));
      else this.abandon("connection");
    });
  }

  /** A PubAck (or an error) for one publish on connection `nc`. */
  private onAck(nc: NatsConnection, inbox: string, m: Msg): void {
    if (nc !== this.nc) return;
    const token = Number(m.subject.slice(inbox.length));
    const p = this.awaiting.get(token);
    if (p === undefined) return; // abandoned after a failure
    this.awaiting.delete(token);
    this.inFlight--;
    let error: Error | null = null;
    let duplicate = false;
    if (m.data.byteLength === 0) {
      const code = m.headers?.code ?? 0;
      error = natsFailure(`publish answered ${code} ${m.headers?.description ?? ""}`, String(code));
    } else {
      const pa = JSON.parse(decoder.decode(m.data)) as {
        stream?: string;
        duplicate?: boolean;
        error?: { code?: number; err_code?: number; description?: string };
      };
      if (pa.error !== undefined || !pa.stream)
        error = natsFailure(
          `publish refused: ${pa.error?.description ?? "no stream"}`,
          String(pa.error?.code),
        );
      duplicate = pa.duplicate === true;
    }
    if (error !== null) {
      this.metrics.failures[publishFailure(error)].inc();
      this.fail(error);
    } else this.stored(p, duplicate);
    this.afterSettle();
  }

  private stored(p: Pending, duplicate: boolean): void {
    const frames = p.data.byteLength / FRAME_SIZE;
    this.messagesStored++;
    this.framesStored += frames;
    const m = this.metrics;
    m.messages[p.ex]!.inc();
    m.frames[p.ex]!.inc(frames);
    m.lastSeq[p.ex]!.set(payloadSeq(p.data, frames - 1));
    if (duplicate) {
      this.duplicates++;
      m.duplicates[p.ex]!.inc();
    }
  }

  /** The oldest publish waited longer than PUBLISH_TIMEOUT_MS: fail (or, while closing, give up on all). */
  private readonly expire = (): void => {
    const oldest = this.awaiting.values().next();
    if (oldest.done || performance.now() - oldest.value.sentAt < PUBLISH_TIMEOUT_MS) return;
    if (this.closed) this.abandon("timeout");
    else {
      this.metrics.failures.timeout.inc();
      this.fail(natsFailure("publish not acknowledged in time", "TIMEOUT"));
    }
  };

  /** Every publish still waiting fails (its connection is gone): counted, and nothing is in flight. */
  private abandon(reason: PublishFailure): void {
    if (this.awaiting.size === 0) return;
    this.metrics.failures[reason].inc(this.awaiting.size);
    this.inFlight -= this.awaiting.size;
    this.awaiting.clear();
    this.afterSettle();
  }

  get queued(): number {
    return this.waiting.length;
  }
  get natsConnected(): boolean {
    return !this.failed && !this.closed && !this.nc.isClosed();
  }
  get relayConnected(): boolean {
    return this.feed?.connected ?? false;
  }
  get paused(): boolean {
    return this.feed === null && !this.failed && !this.closed;
  }
  ready(): Readiness {
    return exportReadiness(this);
  }

  private get exchanges(): readonly ExchangeName[] {
    return this.cfg.exchanges.length ? (this.cfg.exchanges as ExchangeName[]) : EXCHANGES;
  }

  /** Open the relay feed at the stream's stored position (exchanges with nothing stored: from start time). */
  async start(): Promise<void> {
    const from: Partial<Record<ExchangeName, number>> = {};
    for (const ex of this.exchanges) {
      const at = await storedPosition(this.jsm, this.cfg.stream, subjectFor(this.cfg.subjectPrefix, ex));
      if (at !== undefined) from[ex] = at;
      this.next[EXCHANGES.indexOf(ex) + 1] = at ?? -1;
    }
    log.info("export feed opening", { from, fromTime: this.startNs });
    this.openFeed(from);
  }

  private openFeed(from: Partial<Record<ExchangeName, number>>): void {
    if (this.closed) return;
    const gen = ++this.generation;
    this.feed = connectRelayConsumer({
      path: this.cfg.relayOut,
      name: `link-export-${this.cfg.stream}`,
      filter: this.cfg.exchanges.length ? { exchanges: this.exchanges as ExchangeName[] } : {},
      resume: true,
      startFrom: { from, fromTime: this.startNs },
      onFrame: (view, offset) => {
        if (gen === this.generation) this.take(view, offset);
      },
      onDisconnect: (reason) => log.warn("relay feed lost; resuming", { reason }),
    });
  }

  private closeFeed(): void {
    this.generation++;
    this.feed?.close();
    this.feed = null;
  }

  /** The hot path: copy one frame into its exchange's batch; publish when full or at the end of this read. */
  private take(view: DataView, offset: number): void {
    const ex = frameExchange(view, offset);
    const seq = frameSeq(view, offset);
    if (frameKind(view, offset) === Kind.Status) {
      const status = frameStatus(view, offset);
      // SlowConsumer is about this feed's socket, not the tape (the feed resumes from the journal), and the
      // resume gap frame sits outside the sequence: the importing relay reports that hole as a RelayGap with
      // the exact count from the seq jump, so neither is exported.
      if (status === Status.SlowConsumer) return;
      if (status === Status.Gap && this.next[ex]! >= 0 && seq !== this.next[ex]) return;
    }
    const b = this.batches[ex]!;
    if (b.frames === 0) b.firstSeq = seq;
    if (view.buffer !== this.srcBuffer) {
      // One byte view per buffer the decoder hands out (its own copy buffer, or a socket read), not per frame.
      this.srcBuffer = view.buffer;
      this.src = new Uint8Array(view.buffer);
    }
    const from = view.byteOffset + offset;
    if (b.runSrc === this.src && from === b.runEnd) b.runEnd += FRAME_SIZE;
    else {
      copyRun(b);
      b.runSrc = this.src;
      b.runFrom = from;
      b.runEnd = from + FRAME_SIZE;
      b.runAt = b.frames * FRAME_SIZE;
    }
    b.frames++;
    this.next[ex] = (seq + 1) % 4294967296;
    // The decoder's carry buffer (a frame split across reads) is rewritten before this read ends: copy now.
    if (view.buffer.byteLength === FRAME_SIZE) copyRun(b);
    if (b.frames * FRAME_SIZE === b.buf.byteLength) this.seal(ex);
    else if (!this.endScheduled) {
      this.endScheduled = true;
      queueMicrotask(this.endOfRead); // after the rest of this socket read, before the next one
    }
  }

  /** The read is over (its buffer may be reused): copy pending runs; publish now or soon (flushPartial). */
  private readonly endOfRead = (): void => {
    this.endScheduled = false;
    for (let ex = 1; ex < 16; ex++) copyRun(this.batches[ex]!);
    this.flushPartial();
  };

  /**
   * Partly filled messages go out once fewer than eagerInFlight publishes are in flight (else at the ack that
   * brings it below, afterSettle) and batchUs has passed since the last ones went: checked at the end of every
   * relay read, so a busy link sends on time whatever the timers' grain (Bun's are whole milliseconds); a timer
   * only covers the last frames before the link goes quiet. An idle link publishes a frame at once; a busy one
   * sends at most one partly filled message per exchange per batchUs, so the messages per second (and PubAcks,
   * stored messages, deliveries and acks, the NATS server's CPU) stop growing with the frame rate. batchUs 0:
   * only the in-flight rule.
   */
  private flushPartial(): void {
    if (this.inFlight >= this.cfg.eagerInFlight) return;
    let partial = false;
    for (let ex = 1; ex < 16 && !partial; ex++) partial = this.batches[ex]!.frames > 0;
    if (!partial) return;
    const now = performance.now();
    const wait = this.lastPartial + this.cfg.batchUs / 1000 - now;
    if (wait > 0) {
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setTimeout(this.onFlushTimer, wait);
      }
      return;
    }
    this.lastPartial = now;
    this.flushAll();
  }

  private readonly onFlushTimer = (): void => {
    this.flushScheduled = false;
    if (!this.failed) this.flushPartial();
  };

  private readonly flushAll = (): void => {
    for (let ex = 1; ex < 16; ex++) if (this.batches[ex]!.frames > 0) this.seal(ex);
  };

  /** Close a batch into a message and publish it, or queue it; pause the feed when the queue is full. */
  private seal(ex: number): void {
    const b = this.batches[ex]!;
    copyRun(b);
    const p: Pending = {
      ex,
      exchange: EXCHANGE_NAMES[ex]!,
      data: b.buf.slice(0, b.frames * FRAME_SIZE),
      firstSeq: b.firstSeq,
      sentAt: 0,
    };
    b.frames = 0;
    if (this.failed) return;
    if (this.inFlight < this.cfg.maxInFlight) this.publish(p);
    else {
      this.waiting.push(p);
      if (this.waiting.length >= this.cfg.maxInFlight && this.feed) {
        log.info("publishes behind; pausing the relay feed", { inFlight: this.inFlight });
        this.metrics.feedPauses.inc();
        this.flushAll();
        this.closeFeed();
      }
    }
  }

  private publish(p: Pending): void {
    this.inFlight++;
    const token = this.token++;
    p.sentAt = performance.now();
    this.awaiting.set(token, p);
    try {
      this.nc.publish(subjectFor(this.cfg.subjectPrefix, p.exchange), p.data, {
        reply: this.inbox + token,
        // nats.js reads publish headers only through encode() (MsgIdHeader).
        headers: new MsgIdHeader(messageId(p.exchange, p.firstSeq)) as unknown as MsgHdrs,
      });
    } catch (error) {
      // A closed connection throws here: settle it like a rejected publish, after this call stack.
      queueMicrotask(() => {
        if (!this.awaiting.delete(token)) return;
        this.inFlight--;
        this.metrics.failures[publishFailure(error as NatsError)].inc();
        this.fail(error);
        this.afterSettle();
      });
    }
  }

  private afterSettle(): void {
    while (!this.failed && this.inFlight < this.cfg.maxInFlight && this.waiting.length > 0)
      this.publish(this.waiting.shift()!);
    // Partly filled messages held behind publishes in flight (endOfRead) go out once the link is idle again.
    if (!this.failed) this.flushPartial();
    if (!this.failed && this.feed === null && !this.closed && this.waiting.length === 0) {
      if (this.inFlight <= this.cfg.maxInFlight / 2) this.openFeed(this.position());
    }
    if (this.inFlight === 0) for (const w of this.settleWaiters.splice(0)) w();
  }

  private position(): Partial<Record<ExchangeName, number>> {
    const from: Partial<Record<ExchangeName, number>> = {};
    for (let ex = 1; ex < 16; ex++) {
      const name = EXCHANGE_NAMES[ex];
      if (name !== undefined && this.next[ex]! >= 0) from[name] = this.next[ex]!;
    }
    return from;
  }

  private fail(error: unknown): void {
    if (this.failed || this.closed) return;
    this.failed = true;
    log.warn("publish failed; re-reading the stored position", { error: String(error) });
    this.closeFeed();
    this.waiting.length = 0;
    for (const b of this.batches) {
      b.frames = 0;
      b.runSrc = null;
    }
    void this.recover();
  }

  /**
   * Drop the connection (with whatever it still buffers), wait until nothing is in flight, then reconnect and
   * resume from what the stream holds, retrying while NATS is away.
   */
  private async recover(): Promise<void> {
    await this.nc.close().catch(() => {});
    this.abandon("connection"); // their PubAcks can no longer come
    if (this.inFlight > 0) await new Promise<void>((r) => this.settleWaiters.push(r));
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const nc = await connectOnce(this.cfg.natsUrl);
        this.nc = nc;
        this.jsm = await nc.jetstreamManager();
        this.watch(nc);
        this.recoveries++;
        this.metrics.reconnects.inc();
        await this.start(); // failed stays set meanwhile: a close now is this attempt's error, not a new recovery
        this.failed = false;
        return;
      } catch (error) {
        await this.nc.close().catch(() => {});
        log.limited("warn", "recover", "stored position unreadable; retrying", { error: String(error) });
        await Bun.sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  async close(): Promise<void> {
    this.flushAll();
    this.closeFeed();
    this.closed = true;
    while (this.waiting.length > 0 && !this.failed) this.publish(this.waiting.shift()!);
    if (this.inFlight > 0) await new Promise<void>((r) => this.settleWaiters.push(r));
    clearInterval(this.ackTimer);
    await this.nc.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  get connection(): NatsConnection {
    return this.nc;
  }
}

/** One connection that never reconnects by itself (see LinkExporter.watch). */
const connectOnce = (url: string): Promise<NatsConnection> =>
  connect({
    ...connectOptions(url, `tapewire-link-export-${process.pid}`),
    reconnect: false,
    timeout: 2_000,
  });

/** Connect to NATS, create the stream if missing, and start exporting from the stored position. */
export async function startExporter(
  cfg: LinkConfig,
  metrics: ExportMetrics = new ExportMetrics(),
): Promise<Exporter> {
  const nc = await connectOnce(cfg.natsUrl);
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, cfg);
  const exporter = new LinkExporter(cfg, nc, jsm, metrics);
  await exporter.start();
  return exporter;
}
