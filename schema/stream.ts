// Frames arrive from a socket in arbitrary chunks; this carries a partial frame across reads.
// It is a consumer's hot path: the frame check reads a few bytes (isValidHead, then valueError: the same rules
// as validateFrame, so a consumer never sees a frame the codec would not accept), validateFrame runs only to
// name a bad frame's error, and a small chunk (the usual one at live rates) is copied into a preallocated
// buffer with its own DataView, so nothing is allocated per read or per frame.
import { FRAME_SIZE, type FrameError, isAcceptable, validateFrame } from "./frame.ts";

/** Called for each whole frame; `view` is only valid during the call (it may be the carry or copy buffer). */
export type FrameHandler = (view: DataView, offset: number) => void;
/** Called for a frame that failed validation; it is skipped (frames are fixed-size, so the stream stays aligned). */
export type FrameErrorHandler = (error: FrameError, view: DataView, offset: number) => void;

/** Chunks up to this size are copied into the decoder's own buffer instead of getting a DataView each. */
const SMALL_CHUNK = 64 * FRAME_SIZE;

export class FrameStreamDecoder {
  private readonly carry = new Uint8Array(FRAME_SIZE);
  private readonly carryView = new DataView(this.carry.buffer);
  private carried = 0;
  private readonly small = new Uint8Array(SMALL_CHUNK);
  private readonly smallView = new DataView(this.small.buffer);
  frames = 0;
  errors = 0;

  constructor(
    private readonly onFrame: FrameHandler,
    private readonly onError: FrameErrorHandler = () => {},
  ) {}

  /** Bytes of a partial frame waiting for the next chunk. */
  get pending(): number {
    return this.carried;
  }

  /**
   * Decode bytes [0, length) of `chunk`. A caller that reads into a buffer of its own (relay/spin.ts) passes
   * its fill as `length` and a DataView over the whole buffer as `view`: frames are then checked in place.
   */
  push(chunk: Uint8Array, length = chunk.byteLength, view?: DataView): void {
    let pos = 0;
    const len = length;
    if (this.carried > 0) {
      const take = Math.min(FRAME_SIZE - this.carried, len);
      this.carry.set(chunk.subarray(0, take), this.carried);
      this.carried += take;
      pos = take;
      if (this.carried < FRAME_SIZE) return;
      this.carried = 0;
      this.run(this.carryView, this.carry, 0, FRAME_SIZE);
    }
    const whole = pos + Math.floor((len - pos) / FRAME_SIZE) * FRAME_SIZE;
    if (whole > pos) {
      if (view !== undefined) {
        this.run(view, chunk, pos, whole);
      } else if (whole - pos <= SMALL_CHUNK) {
        this.small.set(pos === 0 && whole === chunk.byteLength ? chunk : chunk.subarray(pos, whole));
        this.run(this.smallView, this.small, 0, whole - pos);
      } else {
        this.run(new DataView(chunk.buffer, chunk.byteOffset, len), chunk, pos, whole);
      }
    }
    if (whole < len) {
      this.carry.set(chunk.subarray(whole, len), 0);
      this.carried = len - whole;
    }
  }

  private run(view: DataView, bytes: Uint8Array, start: number, end: number): void {
    const onFrame = this.onFrame;
    for (let off = start; off < end; off += FRAME_SIZE) {
      if (isAcceptable(bytes, off)) {
        this.frames++; // counted before the call: a handler that throws still consumed the frame
        onFrame(view, off);
      } else {
        this.reject(view, off);
      }
    }
  }

  private reject(view: DataView, offset: number): void {
    this.errors++;
    this.onError(validateFrame(view, offset), view, offset);
  }
}
