// The journal's commit record, one per flush, appended to the segment's .idx file after the flush's frames:
// the journal state after those frames. Frames after the last whole record of the last segment were never
// committed (nor acknowledged) and are cut at start-up. Little-endian, RECORD_SIZE bytes:
//   0 f64 endPos     global frame position after this flush (frames in the journal since it was created)
//   8 f64 maxTsRecv  largest frame tsRecv so far, ns (a double: an index for time lookups, exact scan after)
//  16 f64 committedAt relay clock at the flush, ms since the epoch
//  24 f64 × SLOTS   journal seq end per exchange code (next journal seq to assign)
//  56 u32 × SLOTS   next expected collector seq per exchange code (ingest dedupe state)
//  72 u8  × SLOTS   collector seq tracked (1) or not (0) per exchange code
//  76 u32 × SLOTS   current collector run per exchange: its CollectorStart's id (pid)
//  92 f64 × SLOTS   current collector run per exchange: its CollectorStart's price (start time, ms)
// 124 u32 magic     "TWJ1"; a record without it is torn
import { EXCHANGES } from "../../schema/frame.ts";

/** Exchange codes 1..EXCHANGES.length, plus the unused 0. */
export const SLOTS = EXCHANGES.length + 1;
export const RECORD_SIZE = 128;
export const RECORD_MAGIC = 0x314a5754; // "TWJ1" little-endian
const O_END = 0;
const O_TS = 8;
const O_AT = 16;
const O_JSEQ = 24;
const O_EXPECTED = O_JSEQ + 8 * SLOTS;
const O_TRACKED = O_EXPECTED + 4 * SLOTS;
const O_RUN_PID = O_TRACKED + SLOTS;
const O_RUN_START = O_RUN_PID + 4 * SLOTS;
const O_MAGIC = O_RUN_START + 8 * SLOTS;

/** The sequence state ingest keeps per exchange code; the journal commits it, recovery restores it. */
export interface SeqState {
  /** Next journal seq per exchange (u64 in a double, exact to 2^53). */
  readonly jseq: Float64Array;
  /** Next expected collector seq per exchange. */
  readonly expected: Uint32Array;
  readonly tracked: Uint8Array;
  /** The current collector run per exchange (its CollectorStart's pid and start ms): a resent start is no restart. */
  readonly runPid: Uint32Array;
  readonly runStart: Float64Array;
}

export function newSeqState(): SeqState {
  return {
    jseq: new Float64Array(16),
    expected: new Uint32Array(16),
    tracked: new Uint8Array(16),
    runPid: new Uint32Array(16),
    runStart: new Float64Array(16),
  };
}

export interface CommitRecord {
  endPos: number;
  maxTsRecv: number;
  committedAt: number;
  state: SeqState;
}

export function writeRecord(view: DataView, off: number, r: CommitRecord): void {
  view.setFloat64(off + O_END, r.endPos, true);
  view.setFloat64(off + O_TS, r.maxTsRecv, true);
  view.setFloat64(off + O_AT, r.committedAt, true);
  for (let ex = 0; ex < SLOTS; ex++) {
    view.setFloat64(off + O_JSEQ + 8 * ex, r.state.jseq[ex]!, true);
    view.setUint32(off + O_EXPECTED + 4 * ex, r.state.expected[ex]!, true);
    view.setUint8(off + O_TRACKED + ex, r.state.tracked[ex]!);
    view.setUint32(off + O_RUN_PID + 4 * ex, r.state.runPid[ex]!, true);
    view.setFloat64(off + O_RUN_START + 8 * ex, r.state.runStart[ex]!, true);
  }
  view.setUint32(off + O_MAGIC, RECORD_MAGIC, true);
}

/** The record at `off`, or null when it is torn (no magic). */
export function readRecord(view: DataView, off: number): CommitRecord | null {
  if (off + RECORD_SIZE > view.byteLength || view.getUint32(off + O_MAGIC, true) !== RECORD_MAGIC)
    return null;
  const state = newSeqState();
  for (let ex = 0; ex < SLOTS; ex++) {
    state.jseq[ex] = view.getFloat64(off + O_JSEQ + 8 * ex, true);
    state.expected[ex] = view.getUint32(off + O_EXPECTED + 4 * ex, true);
    state.tracked[ex] = view.getUint8(off + O_TRACKED + ex);
    state.runPid[ex] = view.getUint32(off + O_RUN_PID + 4 * ex, true);
    state.runStart[ex] = view.getFloat64(off + O_RUN_START + 8 * ex, true);
  }
  return {
    endPos: view.getFloat64(off + O_END, true),
    maxTsRecv: view.getFloat64(off + O_TS, true),
    committedAt: view.getFloat64(off + O_AT, true),
    state,
  };
}

/** Every whole record of an .idx file's bytes, stopping at the first torn one. */
export function readRecords(bytes: Uint8Array): CommitRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CommitRecord[] = [];
  for (let off = 0; off + RECORD_SIZE <= bytes.byteLength; off += RECORD_SIZE) {
    const r = readRecord(view, off);
    if (r === null) break;
    out.push(r);
  }
  return out;
}

export function copyState(from: SeqState, to: SeqState): void {
  to.jseq.set(from.jseq);
  to.expected.set(from.expected);
  to.tracked.set(from.tracked);
  to.runPid.set(from.runPid);
  to.runStart.set(from.runStart);
}

/** Segment files are named by their first global frame position, zero-padded so names sort. */
export const segmentName = (startPos: number): string => `${String(startPos).padStart(16, "0")}.frames`;
export const indexName = (startPos: number): string => `${String(startPos).padStart(16, "0")}.idx`;
/** The archiver creates this beside a segment once it has taken it; only then may retention delete it. */
export const archivedMarker = (startPos: number): string => `${segmentName(startPos)}.archived`;
export const SEGMENT_FILE = /^(\d{16})\.frames$/;
