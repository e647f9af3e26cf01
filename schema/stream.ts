// Frames arrive from a socket in arbitrary chunks; this carries a partial frame across reads.
import { FRAME_SIZE, FrameError, validateFrame } from "./frame.ts";

/** Called for each whole frame; `view` is only valid during the call (it may be the carry buffer). */
export type FrameHandler = (view: DataView, offset: number) => void;
/** Called for a frame that failed validation; it is skipped (frames are fixed-size, so the stream stays aligned). */
export type FrameErrorHandler = (error: FrameError, view: DataView, offset: number) => void;

export class FrameStreamDecoder {
  private readonly carry = new Uint8Array(FRAME_SIZE);
  private readonly carryView = new DataView(this.carry.buffer);
  private carried = 0;
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

  push(chunk: Uint8Array): void {
    let pos = 0;
    const len = chunk.byteLength;
    if (this.carried > 0) {
      const need = FRAME_SIZE - this.carried;
      const take = Math.min(need, len);
      this.carry.set(chunk.subarray(0, take), this.carried);
      this.carried += take;
      pos = take;
      if (this.carried < FRAME_SIZE) return;
      this.carried = 0;
      this.emit(this.carryView, 0);
    }
    const whole = pos + Math.floor((len - pos) / FRAME_SIZE) * FRAME_SIZE;
    if (whole > pos) {
      const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let off = pos; off < whole; off += FRAME_SIZE) this.emit(view, off);
    }
    if (whole < len) {
      this.carry.set(chunk.subarray(whole), 0);
      this.carried = len - whole;
    }
  }

  private emit(view: DataView, offset: number): void {
    const error = validateFrame(view, offset);
    if (error === FrameError.None) {
      this.frames++;
      this.onFrame(view, offset);
    } else {
      this.errors++;
      this.onError(error, view, offset);
    }
  }
}
