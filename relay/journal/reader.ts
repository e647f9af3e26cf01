// Read-only access to a journal directory for tools (`bun run replay`): the committed frames of a range, in
// journal order, in chunks. Never writes, truncates or deletes (a running relay may own the directory): only
// what a commit record covers is read, so a torn or unflushed tail is simply not there yet.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { byteExchange, byteInstrument, byteTsRecv, FRAME_SIZE } from "../../schema/frame.ts";
import { type CommitRecord, indexName, readRecords, SEGMENT_FILE, segmentName } from "./record.ts";

/** Frames from different collectors arrive a little out of tsRecv order: a time range ends this much later. */
export const TIME_SLACK_NS = 1e9;

export interface JournalRange {
  /** Exchange ids to keep; empty = all (or, with seq bounds, the exchanges they name). */
  readonly exchanges?: readonly number[];
  /** Instrument ids to keep; empty = all. Instrument-0 status frames (feed-wide events) always pass. */
  readonly instruments?: readonly number[];
  /** Per exchange id: the first journal seq wanted (inclusive) / the end (exclusive). */
  readonly fromSeq?: Readonly<Record<number, number>>;
  readonly toSeq?: Readonly<Record<number, number>>;
  /** tsRecv bounds, ns since the epoch: [fromNs, toNs). */
  readonly fromNs?: number;
  readonly toNs?: number;
}

interface SegmentRecords {
  readonly startPos: number;
  readonly records: CommitRecord[];
}

export class JournalRangeError extends Error {}

export class JournalReader {
  readonly segments: SegmentRecords[] = [];

  constructor(readonly dir: string) {
    if (!existsSync(dir)) throw new JournalRangeError(`journal directory ${dir} does not exist`);
    const starts = readdirSync(dir)
      .map((name) => SEGMENT_FILE.exec(name)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const startPos of starts) {
      const idx = join(dir, indexName(startPos));
      if (!existsSync(idx)) continue;
      const records = readRecords(new Uint8Array(readFileSync(idx)));
      if (records.length > 0) this.segments.push({ startPos, records });
    }
  }

  /** Global position after the last committed frame (0 when empty). */
  get endPos(): number {
    return this.segments.at(-1)?.records.at(-1)?.endPos ?? 0;
  }

  get startPos(): number {
    return this.segments[0]?.startPos ?? 0;
  }

  /**
   * The frames of `range`, in journal order, copied into `into` (whole frames; at most its length) per
   * call of the returned iterator's next(); each chunk is valid until the next one.
   */
  *frames(range: JournalRange, into: Uint8Array): Generator<Uint8Array, void, void> {
    const keepEx = new Uint8Array(16);
    const seqBound = Object.keys(range.fromSeq ?? {})
      .concat(Object.keys(range.toSeq ?? {}))
      .map(Number);
    const exchanges = range.exchanges?.length ? range.exchanges : seqBound;
    if (exchanges.length === 0) keepEx.fill(1);
    for (const ex of exchanges) keepEx[ex] = 1;
    const keepInst = range.instruments?.length ? new Uint8Array(65536) : null;
    for (const i of range.instruments ?? []) keepInst![i] = 1;
    const from = new Float64Array(16);
    const to = new Float64Array(16).fill(Number.POSITIVE_INFINITY);
    for (const [ex, s] of Object.entries(range.fromSeq ?? {})) from[Number(ex)] = s;
    for (const [ex, s] of Object.entries(range.toSeq ?? {})) to[Number(ex)] = s;
    const fromNs = range.fromNs ?? Number.NEGATIVE_INFINITY;
    const toNs = range.toNs ?? Number.POSITIVE_INFINITY;
    const start = this.startRecord(range);
    if (start === null) return;
    const next = new Float64Array(16);
    next.set(start.record.state.jseq.subarray(0, 16));
    const capacity = Math.floor(into.byteLength / FRAME_SIZE) * FRAME_SIZE;
    if (capacity === 0) throw new RangeError("replay buffer smaller than one frame");
    // Frames are read into `into` and the kept ones compacted in place: no copy when all are kept, no
    // allocation per frame.
    const buf = into;
    let maxTs = Number.NEGATIVE_INFINITY;
    for (let s = start.segment; s < this.segments.length; s++) {
      const seg = this.segments[s]!;
      const end = seg.records.at(-1)!.endPos;
      let pos = s === start.segment ? start.record.endPos : seg.startPos;
      let fd: number;
      try {
        fd = openSync(join(this.dir, segmentName(seg.startPos)), "r");
      } catch (error) {
        throw new JournalRangeError(
          `journal segment ${segmentName(seg.startPos)} went away while reading (retention?): ${(error as Error).message}`,
        );
      }
      try {
        while (pos < end) {
          const want = Math.min(capacity, (end - pos) * FRAME_SIZE);
          const got = readSync(fd, buf, 0, want, (pos - seg.startPos) * FRAME_SIZE);
          const frames = Math.floor(got / FRAME_SIZE);
          if (frames === 0) break;
          let out = 0;
          for (let i = 0, off = 0; i < frames; i++, off += FRAME_SIZE) {
            const ex = byteExchange(buf, off);
            const seq = next[ex]!;
            next[ex] = seq + 1;
            const ts = byteTsRecv(buf, off);
            if (ts > maxTs) maxTs = ts;
            if (keepEx[ex] === 0 || seq < from[ex]! || seq >= to[ex]!) continue;
            if (ts < fromNs || ts >= toNs) continue;
            if (keepInst !== null) {
              const inst = byteInstrument(buf, off);
              if (inst !== 0 && keepInst[inst] === 0) continue;
            }
            if (out !== off) buf.copyWithin(out, off, off + FRAME_SIZE);
            out += FRAME_SIZE;
          }
          pos += frames;
          if (out > 0) yield into.subarray(0, out);
          if (this.pastEnd(next, keepEx, to, maxTs, toNs)) return;
        }
      } finally {
        closeSync(fd);
      }
    }
  }

  /** Every bounded exchange is past its end seq, or time is well past toNs: nothing later can match. */
  private pastEnd(
    next: Float64Array,
    keep: Uint8Array,
    to: Float64Array,
    maxTs: number,
    toNs: number,
  ): boolean {
    if (maxTs >= toNs + TIME_SLACK_NS) return true;
    let bounded = false;
    for (let ex = 1; ex < 16; ex++) {
      if (keep[ex] === 0) continue;
      if (to[ex] === Number.POSITIVE_INFINITY) return false;
      if (next[ex]! < to[ex]!) return false;
      bounded = true;
    }
    return bounded;
  }

  /** The commit record to scan from: the latest one before every asked start (seq or time). */
  private startRecord(range: JournalRange): { segment: number; record: CommitRecord } | null {
    if (this.segments.length === 0) return null;
    const oldest = { segment: 0, record: this.segments[0]!.records[0]! };
    const starts: Array<(r: CommitRecord) => boolean> = [];
    for (const [ex, s] of Object.entries(range.fromSeq ?? {})) {
      const e = Number(ex);
      starts.push((r) => r.state.jseq[e]! <= s);
    }
    // Index times are a hint (a double, max so far): start 1 ms early, the scan is exact.
    if (range.fromNs !== undefined) starts.push((r) => r.maxTsRecv < range.fromNs! - 1e6);
    if (starts.length === 0) return oldest;
    let earliest: { segment: number; record: CommitRecord } | null = null;
    for (const ok of starts) {
      const found = this.lastRecord(ok);
      if (earliest === null || found.record.endPos < earliest.record.endPos) earliest = found;
    }
    return earliest;
  }

  /** The last record (over all segments) for which `ok` holds, given it holds for a prefix; else the first. */
  private lastRecord(ok: (r: CommitRecord) => boolean): { segment: number; record: CommitRecord } {
    let found = { segment: 0, record: this.segments[0]!.records[0]! };
    for (let s = 0; s < this.segments.length; s++) {
      const records = this.segments[s]!.records;
      if (!ok(records[0]!)) break;
      let lo = 0;
      let hi = records.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ok(records[mid]!)) lo = mid + 1;
        else hi = mid;
      }
      found = { segment: s, record: records[lo - 1]! };
    }
    return found;
  }
}
