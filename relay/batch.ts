// The frames of one ingest read (valid ones, with RelayGap frames inserted). Usually a read is clean, and the
// batch just points into the socket's chunk (no copy); otherwise, or when a filtered consumer needs word
// access, the frames are laid out in an owned, word-aligned staging buffer.
import { type Exchange, FRAME_SIZE, Kind, type Status } from "../schema/frame.ts";
import { writeStatusFrame } from "../schema/stamp.ts";

export class FrameBatch {
  /** Owned staging buffer, with word and DataView access. */
  bytes: Uint8Array;
  words: Uint32Array;
  view: DataView;
  /** Where the frames are: `bytes` (owned) or a borrowed chunk, valid only during the read callback. */
  src: Uint8Array;
  srcStart = 0;
  /** Bytes of frames (whole frames). */
  length = 0;
  /** Frames per (exchange << 4) | kind in this batch, for out-metrics of unfiltered consumers. */
  readonly counts = new Float64Array(64);

  constructor(capacityBytes = 1 << 20) {
    this.bytes = new Uint8Array(capacityBytes);
    this.words = new Uint32Array(this.bytes.buffer);
    this.view = new DataView(this.bytes.buffer);
    this.src = this.bytes;
  }

  get borrowed(): boolean {
    return this.src !== this.bytes;
  }

  reset(): void {
    this.length = 0;
    this.src = this.bytes;
    this.srcStart = 0;
    this.counts.fill(0);
  }

  /** Point at frames in a caller's chunk instead of copying them (the batch must be empty). */
  borrow(chunk: Uint8Array, start: number, length: number): void {
    this.src = chunk;
    this.srcStart = start;
    this.length = length;
  }

  /** Copy borrowed frames into the owned buffer (for word access); no-op when already owned. */
  own(): void {
    if (!this.borrowed) return;
    const { src, srcStart, length } = this;
    this.length = 0;
    this.src = this.bytes;
    this.srcStart = 0;
    this.append(src, srcStart, srcStart + length);
  }

  /** Make room for `extra` more bytes; grows (rarely: only for a read larger than any before). */
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.bytes.byteLength) return;
    let size = this.bytes.byteLength * 2;
    while (size < need) size *= 2;
    const bytes = new Uint8Array(size);
    bytes.set(this.bytes.subarray(0, this.length));
    this.bytes = bytes;
    this.src = bytes;
    this.words = new Uint32Array(bytes.buffer);
    this.view = new DataView(bytes.buffer);
  }

  /** Append whole frames from `src` (already validated and counted by the caller). */
  append(src: Uint8Array, start: number, end: number): void {
    if (end <= start) return;
    this.own();
    this.reserve(end - start);
    this.bytes.set(src.subarray(start, end), this.length);
    this.length += end - start;
  }

  /** Append a relay-made Status frame for `exchange`, instrument 0, stamped with the relay's clock. */
  appendStatus(status: Status, exchange: Exchange, seq: number, id: number, price: number): void {
    this.own();
    this.reserve(FRAME_SIZE);
    writeStatusFrame(this.view, this.length, status, exchange, seq, id, price);
    this.counts[(exchange << 4) | Kind.Status]!++;
    this.length += FRAME_SIZE;
  }
}
