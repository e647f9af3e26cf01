// Frames of one exchange message are staged, then committed together: sequence numbers and the receive
// stamp are filled in and the bytes are handed to the output (the relay sink) in one copy.
import {
  type Exchange,
  FRAME_SIZE,
  FrameOffset,
  Kind,
  Status,
  writeHeader,
  writeStatusBody,
} from "../../schema/frame.ts";
import { RecvStamp } from "../../schema/stamp.ts";
import type { CollectorMetrics } from "./metrics.ts";
import type { FrameEmitter } from "./types.ts";

/** Where committed frames go. `accept` copies the bytes; returns false when they had to be dropped. */
export interface FrameOutput {
  accept(bytes: Uint8Array, length: number): boolean;
}

const SEQ = FrameOffset.seq;
const TS_RECV = FrameOffset.tsRecv;

/** Most frames one exchange message may produce (a full Coinbase book snapshot is the largest). */
export const STAGING_FRAMES = 65536;

export class StagingEmitter implements FrameEmitter {
  private readonly bytes = new Uint8Array(STAGING_FRAMES * FRAME_SIZE);
  readonly view = new DataView(this.bytes.buffer);
  private count = 0;
  private overflowed = false;
  private readonly recv = new RecvStamp();
  /** The receive time of the message being parsed, ms since the epoch (trade-id bookkeeping, backfill). */
  get receivedMs(): number {
    return (this.recv.hi * 4294967296 + this.recv.lo) / 1e6;
  }
  private dropped = 0;
  /** Next per-exchange sequence number; contiguous across every committed frame. */
  seq = 0;

  constructor(
    private readonly exchange: Exchange,
    private readonly output: FrameOutput,
    private readonly metrics?: CollectorMetrics,
  ) {
    this.markReceived();
  }

  get pending(): number {
    return this.count;
  }

  /** Stamp the host clock for the message about to be parsed; every frame from it carries this time. */
  markReceived(): void {
    this.recv.take();
  }

  begin(kind: Kind, flags: number, instrument: number): number {
    if (this.count === STAGING_FRAMES) {
      // Keep writing into the last slot so the caller's offsets stay valid; commit() rejects the message.
      this.overflowed = true;
      this.count--;
    }
    const offset = this.count * FRAME_SIZE;
    this.count++;
    writeHeader(this.view, offset, kind, flags, this.exchange, instrument);
    return offset;
  }

  commit(): void {
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    if (this.overflowed) {
      this.overflowed = false;
      this.metrics?.parseError("message_too_large");
      return;
    }
    const view = this.view;
    const lo = this.recv.lo;
    const hi = this.recv.hi;
    let seq = this.seq;
    for (let i = 0, off = 0; i < n; i++, off += FRAME_SIZE) {
      // The hottest loop of a collector: field writes inlined, offsets from FrameOffset (schema/frame.ts).
      view.setUint32(off + SEQ, seq, true);
      seq = (seq + 1) >>> 0;
      view.setUint32(off + TS_RECV, lo, true);
      view.setInt32(off + TS_RECV + 4, hi, true);
      this.metrics?.frameOut(this.bytes[off]! & 0x0f);
    }
    this.seq = seq;
    if (!this.output.accept(this.bytes, n * FRAME_SIZE)) {
      // The sequence numbers were used, so the relay sees the loss as a gap too.
      this.dropped += n;
      this.metrics?.framesDropped.inc(n);
    } else if (this.dropped > 0) {
      const lost = this.dropped;
      this.dropped = 0;
      this.status(Status.BufferOverflow, 0, lost, lost);
    }
  }

  rollback(): void {
    this.count = 0;
    this.overflowed = false;
  }

  status(code: Status, instrument: number, detail: number, count: number): void {
    this.commit();
    const off = this.begin(Kind.Status, code << 4, instrument);
    writeStatusBody(this.view, off, detail, count);
    this.markReceived();
    this.commit();
  }
}
