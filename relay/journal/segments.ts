// Segment files on disk: listing and recovery at start-up (cutting a torn tail), retention and deletion.
// A segment is `<startPos>.frames` (raw frames) + `<startPos>.idx` (commit records, record.ts); the archiver
// marks one it has taken with `<startPos>.frames.archived`.
import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../lib/log.ts";
import { FRAME_SIZE } from "../../schema/frame.ts";
import {
  archivedMarker,
  type CommitRecord,
  indexName,
  newSeqState,
  RECORD_SIZE,
  readRecord,
  readRecords,
  SEGMENT_FILE,
  segmentName,
} from "./record.ts";

export interface Segment {
  readonly startPos: number;
  /** Global position after its last committed frame. */
  endPos: number;
  bytes: number;
  createdAt: number;
  /** The state at its start (its first record). */
  readonly first: CommitRecord;
  lastRecord: CommitRecord;
  readFd: number | null;
}

export interface OpenedSegments {
  segments: Segment[];
  /** The last commit: the journal's state at start-up. */
  last: CommitRecord;
  tornBytes: number;
}

const EMPTY: CommitRecord = { endPos: 0, maxTsRecv: 0, committedAt: 0, state: newSeqState() };

export function openSegments(dir: string, log: Logger): OpenedSegments {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const starts = readdirSync(dir)
    .map((name) => SEGMENT_FILE.exec(name)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const segments: Segment[] = [];
  let tornBytes = 0;
  for (let i = 0; i < starts.length; i++) {
    const startPos = starts[i]!;
    const isLast = i === starts.length - 1;
    const seg = isLast ? recoverLast(dir, startPos, log) : closedSegment(dir, startPos);
    tornBytes += seg.torn;
    if (seg.segment) segments.push(seg.segment);
  }
  return { segments, last: segments.at(-1)?.lastRecord ?? EMPTY, tornBytes };
}

/** A closed segment: its first and last records (its length follows from the last one). */
function closedSegment(dir: string, startPos: number): { segment: Segment | null; torn: number } {
  const fd = openSync(join(dir, indexName(startPos)), "r");
  try {
    const size = fstatSync(fd).size;
    const buf = new Uint8Array(RECORD_SIZE);
    readSync(fd, buf, 0, RECORD_SIZE, 0);
    const first = readRecord(new DataView(buf.buffer), 0);
    const whole = Math.floor(size / RECORD_SIZE) * RECORD_SIZE;
    readSync(fd, buf, 0, RECORD_SIZE, whole - RECORD_SIZE);
    const last = readRecord(new DataView(buf.buffer), 0);
    if (!first || !last) return { segment: null, torn: 0 };
    return {
      segment: segmentOf(startPos, first, last, statSync(join(dir, indexName(startPos))).mtimeMs),
      torn: 0,
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * The newest segment after a crash: keep the frames up to its last whole commit record that the frames file
 * really holds; cut everything after (frames never committed were never acknowledged: collectors resend).
 */
function recoverLast(dir: string, startPos: number, log: Logger): { segment: Segment | null; torn: number } {
  const framesPath = join(dir, segmentName(startPos));
  const indexPath = join(dir, indexName(startPos));
  const framesSize = statSync(framesPath).size;
  const indexBytes = existsSync(indexPath) ? readFileSync(indexPath) : new Uint8Array(0);
  const records = readRecords(indexBytes);
  let k = records.length - 1;
  while (k >= 0 && (records[k]!.endPos - startPos) * FRAME_SIZE > framesSize) k--;
  if (k < 0) {
    // Not even its start record: nothing in it was ever committed.
    for (const p of [framesPath, indexPath]) if (existsSync(p)) unlinkSync(p);
    log.warn("journal: removed an uncommitted segment", { startPos, bytes: framesSize });
    return { segment: null, torn: framesSize + indexBytes.byteLength };
  }
  const keepFrames = (records[k]!.endPos - startPos) * FRAME_SIZE;
  const keepIndex = (k + 1) * RECORD_SIZE;
  const torn = framesSize - keepFrames + (indexBytes.byteLength - keepIndex);
  if (torn > 0) {
    truncate(framesPath, keepFrames);
    truncate(indexPath, keepIndex);
    log.warn("journal: torn tail cut", {
      startPos,
      framesCut: framesSize - keepFrames,
      indexCut: indexBytes.byteLength - keepIndex,
    });
  }
  return { segment: segmentOf(startPos, records[0]!, records[k]!, Date.now()), torn };
}

function truncate(path: string, length: number): void {
  const fd = openSync(path, "r+");
  try {
    ftruncateSync(fd, length);
  } finally {
    closeSync(fd);
  }
}

function segmentOf(startPos: number, first: CommitRecord, last: CommitRecord, createdAt: number): Segment {
  return {
    startPos,
    endPos: last.endPos,
    bytes: (last.endPos - startPos) * FRAME_SIZE,
    createdAt,
    first,
    lastRecord: last,
    readFd: null,
  };
}

export interface RetentionRules {
  dir: string;
  retentionMs: number;
  retentionBytes: number;
  requireArchive: boolean;
}

/**
 * Closed segments to delete now, oldest first: past the age bound (its last commit) or while the journal is
 * over the size bound; never one the archiver has not marked (when required), and never past such a one.
 */
export function retentionVictims(
  rules: RetentionRules,
  segments: readonly Segment[],
  current: Segment,
  now: number,
): { victims: Segment[]; waiting: number } {
  let total = 0;
  for (const s of segments) total += s.bytes;
  const victims: Segment[] = [];
  let waiting = 0;
  for (const s of segments) {
    if (s === current) break;
    const expired = now - s.lastRecord.committedAt > rules.retentionMs || total > rules.retentionBytes;
    if (!expired) break;
    if (rules.requireArchive && !existsSync(join(rules.dir, archivedMarker(s.startPos)))) {
      waiting++;
      continue; // counted; nothing newer is deleted before it
    }
    if (waiting > 0) continue;
    victims.push(s);
    total -= s.bytes;
  }
  return { victims, waiting };
}

export function removeSegment(dir: string, seg: Segment, log: Logger): void {
  if (seg.readFd !== null) closeSync(seg.readFd);
  seg.readFd = null;
  for (const name of [segmentName(seg.startPos), indexName(seg.startPos), archivedMarker(seg.startPos)]) {
    const path = join(dir, name);
    if (existsSync(path)) unlinkSync(path);
  }
  log.info("journal segment deleted (retention)", { startPos: seg.startPos, bytes: seg.bytes });
}
