// Consumer resume (relay/README.md, "Resume"): where a consumer's `from` / `fromTime` start in the journal,
// and the per-frame rule of what it is sent while it reads the journal before joining the live stream.
import { EXCHANGE_IDS, type ExchangeName } from "../schema/frame.ts";
import type { ResumePosition } from "./filter.ts";
import type { Journal } from "./journal/journal.ts";
import type { CommitRecord } from "./journal/record.ts";

const TWO32 = 4294967296;
const BY_SEQ = 1;
const BY_TIME = 2;

/** A resume-gap frame to send first: `count` frames of `exchange` from journal seq `first` are gone. */
export interface ResumeGap {
  exchange: number;
  first: number;
  count: number;
}

export class ReplayCursor {
  /** Global journal position of the next frame to read. */
  pos: number;
  /** Journal seq the frame of each exchange at `pos` has. */
  readonly next = new Float64Array(16);
  /** How each exchange starts: 0 live, BY_SEQ from fromSeq, BY_TIME from the first frame at or after the time. */
  readonly mode = new Uint8Array(16);
  readonly fromSeq = new Float64Array(16);
  /** A frame received at or after fromTime has been seen: from there on, every BY_TIME exchange is sent. */
  timeStarted = false;
  /** Frames at or after this position are new since the consumer asked: what a live exchange gets. */
  readonly livePos: number;
  readonly timeHi: number;
  readonly timeLo: number;
  readonly gaps: ResumeGap[] = [];
  frames = 0;

  constructor(journal: Journal, resume: ResumePosition) {
    const state = journal.seqState;
    this.livePos = journal.head;
    let start: CommitRecord | null = null;
    const consider = (r: CommitRecord) => {
      if (start === null || r.endPos < start.endPos) start = r;
    };
    for (const [name, wanted] of Object.entries(resume.from ?? {})) {
      const ex = EXCHANGE_IDS[name as ExchangeName];
      const head = state.jseq[ex]!;
      let target = wanted < TWO32 && head > TWO32 ? head - ((head - wanted) % TWO32) : wanted;
      const oldest = journal.oldestSeq(ex);
      if (target < oldest) {
        this.gaps.push({ exchange: ex, first: target, count: oldest - target });
        target = oldest;
      }
      this.mode[ex] = BY_SEQ;
      this.fromSeq[ex] = target;
      if (target < head) consider(findBySeq(journal, ex, target));
    }
    const t = resume.fromTime === undefined ? null : BigInt(resume.fromTime);
    this.timeHi = t === null ? 0 : Number(t >> 32n);
    this.timeLo = t === null ? 0 : Number(t & 0xffffffffn);
    if (t !== null) {
      for (let ex = 1; ex < 16; ex++) if (this.mode[ex] === 0) this.mode[ex] = BY_TIME;
      consider(findByTime(journal, Number(t)));
    }
    const from = start as CommitRecord | null;
    if (from === null || from.endPos >= journal.head) {
      this.pos = journal.head;
      this.next.set(state.jseq);
    } else {
      this.pos = from.endPos;
      this.next.set(from.state.jseq);
    }
  }

  /** Called for each journal frame in order: should this consumer get it (before its filter)? */
  wants(ex: number, seqLo: number, tsHi: number, tsLo: number, pos: number): boolean {
    // The frame's own seq (low 32 bits) places it: the same as counting in a collector-fed journal; an
    // importing relay's journal may jump forward where the link lost frames (relay/passthrough.ts).
    const counted = this.next[ex]!;
    const ahead = (seqLo - counted) >>> 0;
    const j = ahead < 2147483648 ? counted + ahead : counted;
    this.next[ex] = j + 1;
    const mode = this.mode[ex];
    if (mode === 0) return pos >= this.livePos; // live exchanges: what is new since the consumer asked
    if (mode === BY_SEQ) return j >= this.fromSeq[ex]!;
    if (mode === BY_TIME) {
      if (this.timeStarted) return true;
      if (tsHi > this.timeHi || (tsHi === this.timeHi && tsLo >= this.timeLo)) {
        this.timeStarted = true;
        return true;
      }
    }
    return false;
  }

  /**
   * May the consumer join the live stream at the journal head? Only once every asked position is reached
   * (a seq or a time still ahead keeps it reading new journal frames through wants()).
   */
  ready(): boolean {
    for (let ex = 1; ex < 16; ex++) {
      const mode = this.mode[ex];
      if (mode === BY_SEQ && this.next[ex]! < this.fromSeq[ex]!) return false;
      if (mode === BY_TIME && !this.timeStarted) return false;
    }
    return true;
  }
}

/** The commit record to scan from for the first frame of `ex` with journal seq ≥ target. */
function findBySeq(journal: Journal, ex: number, target: number): CommitRecord {
  const segs = journal.segments;
  let i = segs.length - 1;
  while (i > 0 && segs[i]!.first.state.jseq[ex]! > target) i--;
  const records = journal.records(segs[i]!);
  return lastWhere(records, (r) => r.state.jseq[ex]! <= target) ?? segs[i]!.first;
}

/** The commit record to scan from for frames received at or after `ns` (index times are hints: 1 ms early). */
function findByTime(journal: Journal, ns: number): CommitRecord {
  const limit = ns - 1e6;
  const segs = journal.segments;
  let i = segs.length - 1;
  while (i > 0 && segs[i]!.first.maxTsRecv >= limit) i--;
  const records = journal.records(segs[i]!);
  return lastWhere(records, (r) => r.maxTsRecv < limit) ?? segs[i]!.first;
}

/** The last element satisfying a predicate that holds for a prefix (binary search). */
function lastWhere<T>(list: readonly T[], ok: (t: T) => boolean): T | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ok(list[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? list[lo - 1] : undefined;
}
