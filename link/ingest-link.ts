// One connection to the local relay's ingest socket for one exchange, acting like a collector (relay/README.md,
// acknowledged ingest): every message's frames are written in order and kept until the relay's Ack frame
// covers their last seq; then the JetStream message is acknowledged. After a reconnect everything not yet
// acknowledged is written again (the relay drops what it already journaled as duplicates), so a relay restart
// or a broken socket loses nothing. Memory is bounded by the consumer's max_ack_pending.
import type { Socket } from "bun";
import { createLogger } from "../lib/log.ts";
import type { CounterChild } from "../lib/metrics.ts";
import { FRAME_SIZE, frameKind, frameSeq, frameStatus, Kind, Status } from "../schema/frame.ts";
import { FrameStreamDecoder } from "../schema/stream.ts";

const log = createLogger({ service: "link-import" });
const HALF = 2 ** 31;

interface Entry {
  bytes: Uint8Array;
  /** u32 seq the relay must acknowledge before `settle` runs. */
  lastSeq: number;
  settle: () => void;
}

/** a ≤ b in u32 sequence arithmetic (within 2^31). */
export const seqAtOrBefore = (a: number, b: number): boolean => (b - a) >>> 0 < HALF;

export class IngestLink {
  private socket: Socket<undefined> | null = null;
  private readonly entries: Entry[] = [];
  /** Bytes the socket did not take yet, in order. */
  private out: Uint8Array[] = [];
  /**
   * Messages sent in this pass (the NATS client delivers one socket read's messages in one synchronous pass):
   * written together at its end, one socket write instead of one per message.
   */
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private batchQueued = false;
  private lastWritten = -1;
  private decoder = new FrameStreamDecoder(this.onRelayFrame.bind(this));
  private closed = false;
  private delay = 50;
  private readonly idleWaiters: Array<() => void> = [];
  acked = -1;
  connects = 0;
  framesWritten = 0;

  constructor(
    private readonly path: string,
    readonly exchange: string,
    /** Counts connections opened again after one was lost. */
    private readonly reconnects?: CounterChild,
  ) {
    this.connect();
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  get unacknowledged(): number {
    return this.entries.length;
  }

  /** Run `then` once nothing is waiting for the relay's ack (at once if nothing is). */
  whenIdle(then: () => void): void {
    if (this.entries.length === 0) then();
    else this.idleWaiters.push(then);
  }

  /** Send frames (whole 48-byte frames, maybe none) and run `settle` once the relay acknowledged them. */
  send(bytes: Uint8Array, lastSeq: number | undefined, settle: () => void): void {
    if (lastSeq !== undefined) this.lastWritten = lastSeq;
    const nothingOwed =
      this.entries.length === 0 &&
      (this.lastWritten < 0 || (this.acked >= 0 && seqAtOrBefore(this.lastWritten, this.acked)));
    if (bytes.byteLength === 0 && nothingOwed) {
      settle(); // a message of duplicates only, with nothing outstanding before it
      return;
    }
    this.entries.push({ bytes, lastSeq: this.lastWritten, settle });
    if (bytes.byteLength > 0) {
      this.framesWritten += bytes.byteLength / FRAME_SIZE;
      this.write(bytes);
    }
  }

  private write(bytes: Uint8Array): void {
    if (this.socket === null) return; // resent on connect
    this.batch.push(bytes);
    this.batchBytes += bytes.byteLength;
    if (!this.batchQueued) {
      this.batchQueued = true;
      queueMicrotask(this.writeBatch);
    }
  }

  private readonly writeBatch = (): void => {
    this.batchQueued = false;
    const list = this.batch;
    if (list.length === 0) return;
    let bytes = list[0]!;
    if (list.length > 1) {
      bytes = new Uint8Array(this.batchBytes);
      let at = 0;
      for (const b of list) {
        bytes.set(b, at);
        at += b.byteLength;
      }
    }
    this.batch = [];
    this.batchBytes = 0;
    this.writeNow(bytes);
  };

  private writeNow(bytes: Uint8Array): void {
    const s = this.socket;
    if (s === null) return; // resent on connect
    if (this.out.length > 0) {
      this.out.push(bytes);
      return;
    }
    const n = s.write(bytes);
    if (n < 0) return;
    if (n < bytes.byteLength) this.out.push(bytes.subarray(n));
  }

  private flush(s: Socket<undefined>): void {
    while (this.out.length > 0) {
      const head = this.out[0]!;
      const n = s.write(head);
      if (n < 0) return;
      if (n < head.byteLength) {
        this.out[0] = head.subarray(n);
        return;
      }
      this.out.shift();
    }
  }

  /** Frames from the relay on this socket: Ack frames settle entries; nothing else is expected. */
  private onRelayFrame(view: DataView, offset: number): void {
    if (frameKind(view, offset) !== Kind.Status || frameStatus(view, offset) !== Status.Ack) return;
    const seq = frameSeq(view, offset);
    this.acked = seq;
    while (this.entries.length > 0 && seqAtOrBefore(this.entries[0]!.lastSeq, seq))
      this.entries.shift()!.settle();
    if (this.entries.length === 0 && this.idleWaiters.length > 0)
      for (const w of this.idleWaiters.splice(0)) w();
  }

  private connect(): void {
    if (this.closed) return;
    let opened = false;
    Bun.connect({
      unix: this.path,
      socket: {
        open: (socket) => {
          opened = true;
          if (this.closed) return void socket.end();
          this.socket = socket;
          this.connects++;
          if (this.connects > 1) this.reconnects?.inc();
          this.delay = 50;
          this.decoder = new FrameStreamDecoder(this.onRelayFrame.bind(this));
          this.out = [];
          this.batch = []; // written again below, with every entry not yet acknowledged
          this.batchBytes = 0;
          for (const e of this.entries) if (e.bytes.byteLength > 0) this.write(e.bytes);
          log.info("relay ingest connected", { exchange: this.exchange, resent: this.entries.length });
        },
        data: (_s, data) => this.decoder.push(data),
        drain: (socket) => this.flush(socket),
        close: (socket) => {
          if (this.socket !== socket) return;
          this.socket = null;
          this.batch = [];
          this.batchBytes = 0;
          log.warn("relay ingest lost; reconnecting", { exchange: this.exchange });
          this.retry();
        },
        error: (_s, error) => log.limited("warn", "ingest-socket", "relay ingest error", { error }),
      },
    }).catch(() => {
      if (!opened) this.retry();
    });
  }

  private retry(): void {
    if (this.closed) return;
    const wait = this.delay / 2 + Math.random() * (this.delay / 2);
    this.delay = Math.min(this.delay * 2, 2000);
    setTimeout(() => this.connect(), wait);
  }

  close(): void {
    this.closed = true;
    this.socket?.end();
    this.socket = null;
  }
}
