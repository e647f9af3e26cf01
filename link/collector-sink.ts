// A collector's output straight to NATS JetStream (issue 13: a collector in one region, its relay in another),
// beside the relay socket sink (collectors/core/sink.ts) and with the same acknowledged-ingest guarantee:
// frames are packed into messages (subject <prefix>.<exchange>.collector, frames unchanged, collector seq), kept
// in a bounded buffer until JetStream's PubAck for their message, and published again after a reconnect with
// the same message ids (a re-send inside the dedupe window is a no-op; the importing relay drops any older
// copy by collector seq). When the buffer is full new frames are refused (the collector counts them and the
// relay reports the hole as a RelayGap). Like the exporter, a connection is never reconnected by the client
// itself: what the server took from one connection is a prefix of what was sent on it, so re-sending
// everything unacknowledged on a fresh connection keeps the stream in order and without holes.
import { connect, type JetStreamClient, type NatsConnection } from "nats";
import type { Env } from "../lib/config.ts";
import type { Logger } from "../lib/log.ts";
import { EXCHANGE_NAMES, type ExchangeName, FRAME_SIZE, FrameOffset } from "../schema/frame.ts";
import { loadLinkConfig } from "./config.ts";
import { connectOptions, ensureStream, payloadSeq } from "./stream.ts";

export interface JetStreamSinkOptions {
  natsUrl: string;
  stream: string;
  subjectPrefix: string;
  maxAgeS: number;
  duplicateWindowS: number;
  /** Frames kept until acknowledged (TAPEWIRE_COLLECTOR_BUFFER_FRAMES). */
  capacityFrames: number;
  /** Frames per message at most. */
  batchFrames?: number;
  maxInFlight?: number;
  log: Logger;
  onConnected?(connected: boolean): void;
}

/** A collector's JetStream sink: stream, subjects and retention from the link settings (TAPEWIRE_LINK_*). */
export function collectorJetStreamSink(
  natsUrl: string,
  env: Env,
  o: { capacityFrames: number; log: Logger; onConnected?(up: boolean): void },
): JetStreamSink {
  const cfg = loadLinkConfig(env);
  return new JetStreamSink({
    natsUrl,
    stream: cfg.stream,
    subjectPrefix: cfg.subjectPrefix,
    maxAgeS: cfg.maxAgeS,
    duplicateWindowS: cfg.duplicateWindowS,
    ...o,
  });
}

/** The subject a collector publishes an exchange's frames on. */
export const collectorSubject = (prefix: string, exchange: ExchangeName): string =>
  `${prefix}.${exchange}.collector`;

interface Message {
  subject: string;
  id: string;
  data: Uint8Array;
  acked: boolean;
  /** Connection generation it was last published on (-1: not yet). */
  sentOn: number;
}

export class JetStreamSink {
  private readonly queue: Message[] = [];
  private readonly open: Uint8Array;
  private openFrames = 0;
  private openExchange = 0;
  private queuedFrames = 0;
  private scheduled = false;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private generation = 0;
  private inFlight = 0;
  private closed = false;
  private streamReady = false;
  private readonly run = `${process.pid}-${Date.now()}`;
  private readonly batchFrames: number;
  private readonly maxInFlight: number;
  /** Messages acknowledged (duplicates included) and frames in them. */
  acks = 0;
  framesAcked = 0;
  /** Messages published again on a new connection. */
  resent = 0;
  refused = 0;

  constructor(private readonly opts: JetStreamSinkOptions) {
    this.batchFrames = opts.batchFrames ?? 1024;
    this.maxInFlight = opts.maxInFlight ?? 64;
    this.open = new Uint8Array(this.batchFrames * FRAME_SIZE);
    void this.connectLoop();
  }

  get connected(): boolean {
    return this.js !== null;
  }
  /** Frames not yet acknowledged by JetStream (written or not). */
  get buffered(): number {
    return this.queuedFrames + this.openFrames;
  }

  /** Copy whole frames in; false (taking nothing) when the bounded buffer has no room. */
  accept(bytes: Uint8Array, length: number): boolean {
    const frames = length / FRAME_SIZE;
    if (this.buffered + frames > this.opts.capacityFrames) {
      this.refused += frames;
      return false;
    }
    for (let off = 0; off < length; ) {
      const ex = bytes[off + FrameOffset.versionExchange]! & 0x0f; // one collector, one exchange
      if (this.openFrames > 0 && ex !== this.openExchange) this.seal();
      this.openExchange = ex;
      const n = Math.min((length - off) / FRAME_SIZE, this.batchFrames - this.openFrames);
      this.open.set(bytes.subarray(off, off + n * FRAME_SIZE), this.openFrames * FRAME_SIZE);
      this.openFrames += n;
      off += n * FRAME_SIZE;
      if (this.openFrames === this.batchFrames) this.seal();
    }
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.endOfTurn); // every message handled in this turn goes out in one publish
    }
    return true;
  }

  private readonly endOfTurn = (): void => {
    this.scheduled = false;
    if (this.openFrames > 0) this.seal();
  };

  private seal(): void {
    const data = this.open.slice(0, this.openFrames * FRAME_SIZE);
    const name = EXCHANGE_NAMES[this.openExchange] ?? "unknown";
    this.queue.push({
      subject: collectorSubject(this.opts.subjectPrefix, name as ExchangeName),
      id: `${name}:c${this.run}:${payloadSeq(data, 0)}`,
      data,
      acked: false,
      sentOn: -1,
    });
    this.queuedFrames += this.openFrames;
    this.openFrames = 0;
    this.pump();
  }

  /** Publish queued messages in order while fewer than maxInFlight wait for their ack. */
  private pump(): void {
    const js = this.js;
    if (js === null) return;
    const gen = this.generation;
    for (const m of this.queue) {
      if (this.inFlight >= this.maxInFlight) return;
      if (m.acked || m.sentOn === gen) continue;
      if (m.sentOn >= 0) this.resent++;
      m.sentOn = gen;
      this.inFlight++;
      js.publish(m.subject, m.data, { msgID: m.id, timeout: 5_000 }).then(
        () => this.settle(m, gen, true),
        (error) => this.settle(m, gen, false, error),
      );
    }
  }

  private settle(m: Message, gen: number, ok: boolean, error?: unknown): void {
    if (gen === this.generation) this.inFlight--;
    if (ok && !m.acked) {
      m.acked = true;
      this.acks++;
      this.framesAcked += m.data.byteLength / FRAME_SIZE;
    }
    while (this.queue.length > 0 && this.queue[0]!.acked) {
      this.queuedFrames -= this.queue.shift()!.data.byteLength / FRAME_SIZE;
    }
    if (!ok && gen === this.generation) this.drop(String(error));
    else this.pump();
  }

  /** A failed publish or a closed connection: drop the connection (and all it buffers), connect again. */
  private drop(reason: string): void {
    if (this.nc === null || this.closed) return;
    const nc = this.nc;
    this.nc = null;
    this.js = null;
    this.generation++;
    this.inFlight = 0;
    this.opts.onConnected?.(false);
    this.opts.log.warn("JetStream connection lost; re-sending what is unacknowledged", {
      reason,
      buffered: this.buffered,
    });
    void nc.close().catch(() => {});
    void this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 0; !this.closed && this.nc === null; attempt++) {
      try {
        const nc = await connect({
          ...connectOptions(this.opts.natsUrl, `tapewire-collector-${process.pid}`),
          reconnect: false,
          timeout: 2_000,
        });
        if (!this.streamReady) {
          await ensureStream(await nc.jetstreamManager(), this.opts);
          this.streamReady = true;
        }
        if (this.closed) return void (await nc.close());
        this.nc = nc;
        this.js = nc.jetstream();
        const gen = this.generation;
        void nc.closed().then(() => {
          if (gen === this.generation) this.drop("connection closed");
        });
        this.opts.onConnected?.(true);
        this.opts.log.info("JetStream connected", { url: this.opts.natsUrl, buffered: this.buffered });
        this.pump();
      } catch (error) {
        if (attempt === 0 || attempt % 20 === 0)
          this.opts.log.info("JetStream not reachable, retrying", { error: String(error) });
        await Bun.sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() * 0.5));
      }
    }
  }

  /** Try to have everything acknowledged (up to timeoutMs), then close. */
  async close(timeoutMs = 2000): Promise<void> {
    this.endOfTurn();
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) await Bun.sleep(5);
    this.closed = true;
    await this.nc?.close().catch(() => {});
    this.nc = null;
    this.js = null;
  }
}
