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

/** A partial frame carried across the reads of one stream. */
export interface FrameCarry {
  readonly carry: Uint8Array;
  carried: number;
}

/** Where the whole frames of a read go: frames [start, end) of `bytes`. */
export interface WholeFrames<C extends FrameCarry> {
  /** `fromCarry`: `bytes` is the carry buffer, reused by the next read (never keep a reference to it). */
  take(c: C, bytes: Uint8Array, start: number, end: number, fromCarry: boolean): void;
}

/**
 * Bytes [0, length) of one read → whole frames to `to`: first the frame a carried part completes, then every
 * whole frame in place; a partial tail is carried to the next read (a read may cut a frame anywhere).
 */
export function splitRead<C extends FrameCarry>(
  c: C,
  chunk: Uint8Array,
  length: number,
  to: WholeFrames<C>,
): void {
  let pos = 0;
  if (c.carried > 0) {
    const take = Math.min(FRAME_SIZE - c.carried, length);
    c.carry.set(chunk.subarray(0, take), c.carried);
    c.carried += take;
    pos = take;
    if (c.carried < FRAME_SIZE) return;
    c.carried = 0;
    to.take(c, c.carry, 0, FRAME_SIZE, true);
  }
  const whole = pos + Math.floor((length - pos) / FRAME_SIZE) * FRAME_SIZE;
  if (whole > pos) to.take(c, chunk, pos, whole, false);
  if (whole < length) {
    c.carry.set(chunk.subarray(whole, length), 0);
    c.carried = length - whole;
  }
}

export class FrameStreamDecoder implements WholeFrames<FrameCarry> {
  private readonly state: FrameCarry = { carry: new Uint8Array(FRAME_SIZE), carried: 0 };
  private readonly carryView = new DataView(this.state.carry.buffer);
  private readonly small = new Uint8Array(SMALL_CHUNK);
  private readonly smallView = new DataView(this.small.buffer);
  /** The caller's view of the read being pushed, if it gave one. */
  private pushView: DataView | undefined = undefined;
  frames = 0;
  errors = 0;

  constructor(
    private readonly onFrame: FrameHandler,
    private readonly onError: FrameErrorHandler = () => {},
  ) {}

  /** Bytes of a partial frame waiting for the next chunk. */
  get pending(): number {
    return this.state.carried;
  }

  /**
   * Decode bytes [0, length) of `chunk`. A caller that reads into a buffer of its own (relay/spin.ts) passes
   * its fill as `length` and a DataView over the whole buffer as `view`: frames are then checked in place.
   */
  push(chunk: Uint8Array, length = chunk.byteLength, view?: DataView): void {
    this.pushView = view;
    splitRead(this.state, chunk, length, this);
    this.pushView = undefined;
  }

  take(_c: FrameCarry, bytes: Uint8Array, start: number, end: number, fromCarry: boolean): void {
    if (fromCarry) this.run(this.carryView, bytes, 0, FRAME_SIZE);
    else if (this.pushView !== undefined) this.run(this.pushView, bytes, start, end);
    else if (end - start <= SMALL_CHUNK) {
      this.small.set(start === 0 && end === bytes.byteLength ? bytes : bytes.subarray(start, end));
      this.run(this.smallView, this.small, 0, end - start);
    } else {
      this.run(new DataView(bytes.buffer, bytes.byteOffset, end), bytes, start, end);
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
