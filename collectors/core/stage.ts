// The one way a venue parser stages frames: the emitter holds them until commit() hands the message's frames
// over together (core/emitter.ts). Exchange times arrive parsed as i64 halves (lo, hi) or are written by the
// caller into the returned offset (schema/stamp.ts writeTsExchangeRfc3339/Epoch). Field layout: schema/frame.ts.
import {
  FLAG_ASK,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  frameFlags,
  Kind,
  setFlags,
  writeId,
  writePrice,
  writeSize,
  writeTsExchangeParts,
} from "../../schema/frame.ts";
import type { FrameEmitter } from "./types.ts";

/** A trade (flags: taker side, backfill); the caller writes its exchange time at the returned offset. */
export function stageTrade(
  em: FrameEmitter,
  instrument: number,
  flags: number,
  id: number,
  price: number,
  size: number,
): number {
  const off = em.begin(Kind.Trade, flags, instrument);
  writeId(em.view, off, id);
  writePrice(em.view, off, price);
  writeSize(em.view, off, size);
  return off;
}

/** One book level (size 0 removes it); returns its offset, for markEnd on the last one. */
export function stageLevel(
  em: FrameEmitter,
  instrument: number,
  flags: number,
  id: number,
  price: number,
  size: number,
  tsLo: number,
  tsHi: number,
): number {
  const off = em.begin(Kind.BookLevel, flags, instrument);
  writeId(em.view, off, id);
  writePrice(em.view, off, price);
  writeSize(em.view, off, size);
  writeTsExchangeParts(em.view, off, tsLo, tsHi);
  return off;
}

/** The frame at `off` ends one atomic exchange update (a snapshot or a delta message). */
export function markEnd(em: FrameEmitter, off: number): void {
  setFlags(em.view, off, frameFlags(em.view, off) | FLAG_END);
}

/** An empty book still reaches consumers as "clear this instrument": one zero level with BEGIN and END. */
export const stageEmptySnapshot = (
  em: FrameEmitter,
  instrument: number,
  id: number,
  tsLo: number,
  tsHi: number,
) => stageLevel(em, instrument, FLAG_SNAPSHOT | FLAG_BEGIN | FLAG_END, id, 0, 0, tsLo, tsHi);

/** Best bid and offer: the bid, then the ask with FLAG_ASK|FLAG_END (an empty side is zeros). */
export function stageBbo(
  em: FrameEmitter,
  instrument: number,
  id: number,
  bid: number,
  bidSize: number,
  ask: number,
  askSize: number,
  tsLo: number,
  tsHi: number,
): void {
  for (let side = 0; side < 2; side++) {
    const off = em.begin(Kind.Bbo, side === 0 ? 0 : FLAG_ASK | FLAG_END, instrument);
    writeId(em.view, off, id);
    writePrice(em.view, off, side === 0 ? bid : ask);
    writeSize(em.view, off, side === 0 ? bidSize : askSize);
    writeTsExchangeParts(em.view, off, tsLo, tsHi);
  }
}
