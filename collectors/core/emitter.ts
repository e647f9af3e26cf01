// Frames of one exchange message are staged, then committed together: sequence numbers and the receive
// stamp are filled in and the bytes are handed to the output (the relay sink) in one copy.
import { stampNow } from "../../schema/clock.ts";
import {
  type Exchange,
  FRAME_SIZE,
  Kind,
  type Status,
  writeHeader,
  writeId,
  writePrice,
  writeSize,
  writeTsExchange,
} from "../../schema/frame.ts";
import type { CollectorMetrics } from "./metrics.ts";
import type { FrameEmitter } from "./types.ts";

/** Where committed frames go. `accept` copies the bytes; returns false when they had to be dropped. */
export interface FrameOutput {
  accept(bytes: Uint8Array, length: number): boolean;
}

/** Most frames one exchange message may produce (a full Coinbase book snapshot is the largest). */
export const STAGING_FRAMES = 65536;

export class StagingEmitter implements FrameEmitter {
  private readonly bytes = new Uint8Array(STAGING_FRAMES * FRAME_SIZE);
  readonly view = new DataView(this.bytes.buffer);
  private count = 0;
  private overflowed = false;
  private readonly recvStamp = new DataView(new ArrayBuffer(8));
  private recvLo = 0;
  private recvHi = 0;
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
    stampNow(this.recvStamp, 0);
    this.recvLo = this.recvStamp.getUint32(0, true);
    this.recvHi = this.recvStamp.getInt32(4, true);
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
    for (let i = 0, off = 0; i < n; i++, off += FRAME_SIZE) {
      view.setUint32(off + 4, this.seq, true);
      this.seq = (this.seq + 1) >>> 0;
      view.setUint32(off + 40, this.recvLo, true);
      view.setInt32(off + 44, this.recvHi, true);
      this.metrics?.frameOut(view.getUint8(off) & 0x0f);
    }
    if (!this.output.accept(this.bytes, n * FRAME_SIZE)) {
      // The sequence numbers were used, so the relay sees the loss as a gap too.
      this.dropped += n;
      this.metrics?.framesDropped.inc(n);
    } else if (this.dropped > 0) {
      const lost = this.dropped;
      this.dropped = 0;
      this.status(11 /* Status.BufferOverflow */ as Status, 0, lost, lost);
    }
  }

  rollback(): void {
    this.count = 0;
    this.overflowed = false;
  }

  status(code: Status, instrument: number, detail: number, count: number): void {
    this.commit();
    const off = this.begin(Kind.Status, code << 4, instrument);
    writeId(this.view, off, detail);
    writePrice(this.view, off, count);
    writeSize(this.view, off, 0);
    writeTsExchange(this.view, off, 0);
    this.markReceived();
    this.commit();
  }
}
