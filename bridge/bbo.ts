// Latest best bid/offer per symbol. A BBO arrives as two frames (bid, then ask with FLAG_ASK|FLAG_END); the
// frames are copied (the relay's buffer is reused after each callback) and merged into one message on FLAG_END.
import { FLAG_ASK, FLAG_END, FRAME_SIZE, frameFlags } from "../schema/frame.ts";

/** Copy one 48-byte frame between views, 4 bytes at a time: no allocation, bit-exact. */
export function copyFrame(src: DataView, srcOff: number, dst: DataView, dstOff: number): void {
  for (let i = 0; i < FRAME_SIZE; i += 4) dst.setUint32(dstOff + i, src.getUint32(srcOff + i, true), true);
}

export const BID_OFFSET = 0;
export const ASK_OFFSET = FRAME_SIZE;

export class BboState {
  /** The latest bid frame at BID_OFFSET, the latest ask frame at ASK_OFFSET. */
  readonly view = new DataView(new ArrayBuffer(2 * FRAME_SIZE));
  hasBid = false;
  hasAsk = false;
  /** Offset of the frame that ended the latest update: its seq and times describe the BBO. */
  lastOffset = ASK_OFFSET;
  /** Changed since the last database sample. */
  dirty = false;

  /** Store one Bbo frame; true when it completes an update (FLAG_END). */
  apply(view: DataView, off: number): boolean {
    const flags = frameFlags(view, off);
    const at = flags & FLAG_ASK ? ASK_OFFSET : BID_OFFSET;
    copyFrame(view, off, this.view, at);
    if (at === ASK_OFFSET) this.hasAsk = true;
    else this.hasBid = true;
    if ((flags & FLAG_END) === 0) return false;
    this.lastOffset = at;
    this.dirty = true;
    return true;
  }
}
