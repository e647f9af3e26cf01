// The relay journal: every accepted frame, as sent to consumers, appended to segment files of raw 48-byte frames.
// append() only copies into pending chunks, reused (the fan-out path never waits on the disk); a timer every
// TAPEWIRE_RELAY_ACK_MS writes them (a small flush on this thread; a large one on the thread pool, O_DIRECT where
// the file system takes it: DIRECT_ALIGN), then appends one commit record (record.ts), fsyncs at most every
// TAPEWIRE_JOURNAL_FSYNC_MS, rotates by size or age, and tells the ingest side what is journaled (acks).
// Layout and recovery rules: relay/README.md ("Journal").
import {
  close,
  closeSync,
  constants,
  fsync,
  fsyncSync,
  ftruncate,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  write,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../lib/log.ts";
import { byteTsRecv, FRAME_SIZE } from "../../schema/frame.ts";
import {
  type CommitRecord,
  copyState,
  indexName,
  newSeqState,
  RECORD_SIZE,
  readRecords,
  type SeqState,
  segmentName,
  writeRecord,
} from "./record.ts";
import { openSegments, removeSegment, retentionVictims, type Segment } from "./segments.ts";

export interface JournalOptions {
  dir: string;
  segmentBytes: number;
  segmentMs: number;
  fsyncMs: number;
  flushMs: number;
  retentionMs: number;
  retentionBytes: number;
  requireArchive: boolean;
  /** Large flushes through an O_DIRECT descriptor (DIRECT_ALIGN); default true. */
  direct?: boolean;
}

export interface JournalStats {
  bytes: number;
  segments: number;
  oldestPos: number;
  headPos: number;
  fsyncs: number;
  flushes: number;
  tornBytes: number;
  /** Failed writes of frames or commit records (each retried; nothing past them is acknowledged). */
  writeErrors: number;
  deletedSegments: number;
  /** Closed segments past retention that wait for their `.archived` marker. */
  waitingArchive: number;
  /** Flushes written through the O_DIRECT descriptor (DIRECT_ALIGN). */
  directFlushes: number;
}

const RETENTION_EVERY_MS = 10_000;
/** Pending and in-flight frames live in fixed chunks, reused: no growth copy, no fresh buffer per flush. */
const CHUNK_BYTES = (1 << 15) * FRAME_SIZE;
/** Free chunks kept for reuse (48 MiB); after a larger burst the rest are left to the garbage collector. */
const POOL_MAX = 32;
/** Flushes up to this size are written on the event loop (relay/journal/journal.ts flush()). */
const SYNC_WRITE_BYTES = 64 * 1024;
/**
 * Large flushes go through a second, O_DIRECT descriptor of the segment: from the reused chunks straight to the
 * disk, no page-cache copy, no writeback later. Its writes start and end on this boundary (memory, file offset
 * and length; the chunks are page-aligned allocations), so the pending chunks begin at the aligned file offset
 * at or below the segment's end, their first bytes a copy of what is already written there (the "lead"), and
 * the last block is padded with whatever the reused chunk held: past the committed end, rewritten by the next
 * flush, cut at rotation, at shutdown and by recovery (only commit records say what a segment holds).
 */
const DIRECT_ALIGN = 4096;
/** Appends up to this many bytes are copied in a loop instead of through a subarray view. */
const SMALL_COPY = 16 * FRAME_SIZE;

export class Journal {
  /** Global position after every appended frame (pending included). */
  head: number;
  /** Global position after every frame written to disk with its commit record. */
  committed: number;
  readonly segments: Segment[];
  /**
   * Frames appended since the last flush, after `pendingLead` bytes already written (see DIRECT_ALIGN): chunk
   * byte 0 is file offset `current.bytes - pendingLead`, aligned.
   */
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private pendingLead = 0;
  /** The chunks being written on the thread pool (frames [committed, committed + its frames)), or empty. */
  private inflight: Uint8Array[] = [];
  private inflightLength = 0;
  private inflightLead = 0;
  /** The flush in flight fills its segment: it rotates once committed, and the pending frames start the next. */
  private rotateAfter = false;
  /** O_DIRECT descriptor of the current segment (null: not supported here, buffered writes only). */
  private directFd: number | null;
  /** False with opts.direct false, or once a direct write was refused (EINVAL): buffered from then on. */
  private direct = true;
  /** The current segment file's end after padded direct writes (> its bytes: cut before it is closed). */
  private fileEnd = 0;
  private writing = false;
  private readonly pool: Uint8Array[] = [];
  private closed = false;
  private maxTsRecv: number;
  private current: Segment;
  private writeFd: number;
  private indexFd: number;
  private readonly recordBuf = new DataView(new ArrayBuffer(RECORD_SIZE));
  private readonly recordState = newSeqState();
  private lastFsync = 0;
  private fsyncing = false;
  /** A segment change is under way on the thread pool (rotate()); flushes wait, appends go on. */
  private rotating = false;
  /** close() has begun: no rotation starts. */
  private closing = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private retentionTimer: ReturnType<typeof setInterval> | null = null;
  readonly stats: JournalStats;
  /** Called after each commit with the new committed position (acks). */
  onCommit: (committed: number) => void = () => {};

  /** Open (or create) the journal in opts.dir, cut a torn tail, and restore `state` from the last commit. */
  constructor(
    private readonly opts: JournalOptions,
    /** The live sequence state ingest updates; committed with every flush. */
    private readonly state: SeqState,
    private readonly log: Logger,
  ) {
    this.direct = opts.direct ?? true;
    const opened = openSegments(opts.dir, log);
    this.segments = opened.segments;
    this.stats = {
      bytes: 0,
      segments: 0,
      oldestPos: 0,
      headPos: 0,
      fsyncs: 0,
      flushes: 0,
      tornBytes: opened.tornBytes,
      writeErrors: 0,
      deletedSegments: 0,
      waitingArchive: 0,
      directFlushes: 0,
    };
    const last = opened.last;
    copyState(last.state, state);
    this.head = this.committed = last.endPos;
    this.maxTsRecv = last.maxTsRecv;
    const reuse = this.segments.at(-1);
    if (reuse && reuse.endPos === reuse.startPos) {
      this.current = reuse;
      const path = join(opts.dir, segmentName(reuse.startPos));
      this.writeFd = openSync(path, "r+");
      this.directFd = this.openDirect(path);
      this.indexFd = openSync(join(opts.dir, indexName(reuse.startPos)), "a");
    } else {
      const created = this.createSegment(last.endPos);
      this.current = created.segment;
      this.writeFd = created.writeFd;
      this.directFd = created.directFd;
      this.indexFd = created.indexFd;
    }
    this.updateStats();
    log.info("journal open", {
      dir: opts.dir,
      segments: this.segments.length,
      headPos: this.head,
      tornBytes: opened.tornBytes,
    });
  }

  /** Start the flush and retention timers. */
  start(): void {
    this.timer = setInterval(() => this.flush(), this.opts.flushMs);
    this.retentionTimer = setInterval(() => this.retain(), RETENTION_EVERY_MS);
    this.retain();
  }

  /** Copy whole frames into the pending chunks; written by the next flush. Never touches the disk. */
  append(src: Uint8Array, start: number, length: number): void {
    if (length === 0) return;
    // A read's run is one or two copies (a frame may straddle two chunks after a lead).
    let from = start;
    const end = start + length;
    while (from < end) {
      const fill = this.pendingLead + this.pendingLength;
      const used = fill % CHUNK_BYTES;
      if (used === 0 && fill === this.pending.length * CHUNK_BYTES)
        this.pending.push(this.pool.pop() ?? new Uint8Array(CHUNK_BYTES));
      const n = Math.min(CHUNK_BYTES - used, end - from);
      const chunk = this.pending[this.pending.length - 1]!;
      // A read of a few frames (the usual one at live rates) is copied byte by byte: no subarray view to
      // allocate per read; a larger run is one native copy.
      if (n <= SMALL_COPY) for (let i = 0; i < n; i++) chunk[used + i] = src[from + i]!;
      else chunk.set(src.subarray(from, from + n), used);
      this.pendingLength += n;
      from += n;
    }
    this.head += length / FRAME_SIZE;
    // The last frame's receive stamp stands for the batch: an index hint only (lookups scan exactly after).
    const ts = byteTsRecv(src, start + length - FRAME_SIZE);
    if (ts > this.maxTsRecv) this.maxTsRecv = ts;
  }

  /**
   * Hand the pending frames to the thread pool for writing (double-buffered: appends go on into the other
   * buffer), then commit: one commit record, fsync when due, rotation when the segment is full or old, acks.
   * One flush in flight at a time (its chunks' writes all handed over at once: writeChunks). A small flush,
   * and every one at shutdown (`sync`), is written on this thread.
   */
  flush(sync = false): void {
    if (this.pendingLength === 0 || this.writing || this.rotating) return;
    const seg = this.current;
    const chunks = this.pending;
    const lead = this.pendingLead;
    const length = this.pendingLength;
    const position = seg.bytes;
    const endPos = this.head;
    copyState(this.state, this.recordState);
    this.writing = true;
    this.pending = this.inflight; // empty: the last commit handed its chunks back to the pool
    this.inflight = chunks;
    this.inflightLength = length;
    this.inflightLead = lead;
    this.pendingLength = 0;
    seg.bytes += length;
    // Decided here, not at the commit: the next frames' layout depends on it (a new segment starts at 0).
    this.rotateAfter =
      seg.bytes >= this.opts.segmentBytes || Date.now() - seg.createdAt >= this.opts.segmentMs;
    this.pendingLead = this.rotateAfter ? 0 : seg.bytes % DIRECT_ALIGN;
    if (this.pendingLead > 0) {
      const first = this.pool.pop() ?? new Uint8Array(CHUNK_BYTES);
      copyBytes(chunks, lead + length - this.pendingLead, this.pendingLead, first, 0);
      this.pending.push(first);
    }
    const fd = this.writeFd;
    const indexFd = this.indexFd;
    const base = position - lead; // the file offset of the chunks' byte 0
    // A small flush (every one below ~270k frames/s at the default 5 ms) is written on this thread: a few KB
    // into the page cache cost less than a thread-pool round trip, and no second thread wakes up beside the
    // relay's fan-out. A large one could wait behind the disk's writeback: the thread pool, direct if it can.
    if (!sync && length > SYNC_WRITE_BYTES) {
      const direct = this.direct && this.directFd !== null && base % DIRECT_ALIGN === 0;
      const to = direct ? Math.ceil((lead + length) / DIRECT_ALIGN) * DIRECT_ALIGN : lead + length;
      if (direct) {
        this.fileEnd = Math.max(this.fileEnd, base + to);
        this.stats.directFlushes++;
      }
      this.writeChunks(chunks, direct ? 0 : lead, to, direct ? this.directFd! : fd, fd, base, () =>
        this.commit(seg, endPos, false, indexFd),
      );
      return;
    }
    let done = lead;
    const end = lead + length;
    try {
      while (done < end) {
        const c = Math.floor(done / CHUNK_BYTES);
        const at = done - c * CHUNK_BYTES;
        done += writeSync(fd, chunks[c]!, at, Math.min(CHUNK_BYTES - at, end - done), base + done);
      }
    } catch (error) {
      if (sync) throw error;
      this.stats.writeErrors++;
      this.log.limited("error", "journal-write", "journal write failed; retrying", { error });
      // The whole flush again on the thread pool (rewriting what went through is harmless: same bytes).
      setTimeout(
        () =>
          this.writeChunks(chunks, lead, end, fd, fd, base, () => this.commit(seg, endPos, false, indexFd)),
        this.opts.flushMs,
      );
      return;
    }
    this.commit(seg, endPos, true, indexFd);
  }

  /**
   * Write bytes [from, to) of `chunks` (byte k at file offset base + k) on the thread pool, every chunk's write
   * handed over at once (positional writes of disjoint ranges: their order does not matter), then `done` once
   * all are through. One event-loop turn per flush, not one per chunk: at max rate a turn of the relay takes
   * milliseconds, and chained writes (the next chunk's write issued from the last one's callback) left the pool
   * idle ~85% of a run while the journal fell behind the fan-out. A partial write goes on from where it
   * stopped; a failed one is retried (a full disk) and nothing is committed before it is through. A direct
   * write refused as such (EINVAL: a file system without O_DIRECT, a misaligned buffer) is written through
   * `buffered` instead, and direct writes stop.
   */
  private writeChunks(
    chunks: Uint8Array[],
    from: number,
    to: number,
    fd: number,
    buffered: number,
    base: number,
    done: () => void,
  ): void {
    const firstChunk = Math.floor(from / CHUNK_BYTES);
    let left = Math.ceil(to / CHUNK_BYTES) - firstChunk;
    const writeChunk = (c: number, at: number, end: number, via: number): void => {
      write(via, chunks[c]!, at, end - at, base + c * CHUNK_BYTES + at, (error, n) => {
        if (this.closed) return;
        if (error) {
          if (via !== buffered && error.code === "EINVAL") {
            this.stopDirect(error);
            writeChunk(c, at, end, buffered);
            return;
          }
          this.stats.writeErrors++;
          this.log.limited("error", "journal-write", "journal write failed; retrying", { error });
          setTimeout(() => writeChunk(c, at, end, via), this.opts.flushMs);
          return;
        }
        if (at + n < end) writeChunk(c, at + n, end, via);
        else if (--left === 0) done();
      });
    };
    for (let c = firstChunk; c * CHUNK_BYTES < to; c++)
      writeChunk(c, Math.max(from - c * CHUNK_BYTES, 0), Math.min(to - c * CHUNK_BYTES, CHUNK_BYTES), fd);
  }

  private stopDirect(error: NodeJS.ErrnoException): void {
    if (!this.direct) return;
    this.direct = false;
    this.log.warn("journal: direct writes refused; buffered from now on", { error });
  }

  /** An O_DIRECT descriptor of a segment file, or null where the file system has none. */
  private openDirect(path: string): number | null {
    if (!this.direct) return null;
    try {
      return openSync(path, constants.O_WRONLY | constants.O_DIRECT);
    } catch (error) {
      this.stopDirect(error as NodeJS.ErrnoException);
      return null;
    }
  }

  /**
   * The in-flight frames are written: their commit record (on the thread pool unless `sync`: a write on the
   * event loop can wait behind the disk's writeback), then fsync/rotation/acks.
   */
  private commit(seg: Segment, endPos: number, sync: boolean, indexFd = this.indexFd): void {
    if (this.closed) return; // shut down meanwhile: these frames were never acknowledged
    const record: CommitRecord = {
      endPos,
      maxTsRecv: this.maxTsRecv,
      committedAt: Date.now(),
      state: this.recordState,
    };
    writeRecord(this.recordBuf, 0, record);
    const bytes = new Uint8Array(this.recordBuf.buffer);
    if (sync) {
      try {
        writeSync(indexFd, bytes);
        this.committed_(seg, endPos, record);
        return;
      } catch (error) {
        if (this.closing) throw error;
        this.stats.writeErrors++;
        this.log.limited("error", "journal-write", "journal commit record write failed; retrying", { error });
      }
    }
    const writeRecordOnce = (): void => {
      write(indexFd, bytes, 0, RECORD_SIZE, null, (error) => {
        if (this.closed) return;
        if (error) {
          this.stats.writeErrors++;
          this.log.limited("error", "journal-write", "journal commit record write failed; retrying", {
            error,
          });
          setTimeout(writeRecordOnce, this.opts.flushMs);
          return;
        }
        this.committed_(seg, endPos, record);
      });
    };
    writeRecordOnce();
  }

  /** The commit record is written: the frames count as journaled (reads, acks). */
  private committed_(seg: Segment, endPos: number, record: CommitRecord): void {
    seg.endPos = endPos;
    seg.lastRecord = { ...record, state: newSeqStateFrom(this.recordState) };
    this.committed = endPos;
    for (const c of this.inflight) if (this.pool.length < POOL_MAX) this.pool.push(c);
    this.inflight.length = 0;
    this.inflightLength = 0;
    this.writing = false;
    this.stats.flushes++;
    // A rotation fsyncs the segment it closes; shutdown (close) fsyncs and closes the files itself.
    if (this.rotateAfter && !this.closing) this.rotate();
    else this.fsyncIfDue();
    this.updateStats();
    this.onCommit(this.committed);
    // More than a chunk came in while this one was written: write it now rather than at the next tick, so
    // what is held in memory stays small (and the pool's chunks are reused instead of new ones taken).
    if (!this.closing && this.pendingLength >= CHUNK_BYTES) this.flush();
  }

  /** Copy up to `maxFrames` frames from global position `pos` into `dst`; returns frames copied (0 at head). */
  read(pos: number, dst: Uint8Array, maxFrames: number): number {
    if (pos >= this.head || pos < this.oldestPos) return 0;
    if (pos >= this.committed) {
      const inflightFrames = this.inflightLength / FRAME_SIZE;
      const rel = pos - this.committed;
      if (rel < inflightFrames) {
        const n = Math.min(maxFrames, inflightFrames - rel);
        copyBytes(this.inflight, this.inflightLead + rel * FRAME_SIZE, n * FRAME_SIZE, dst, 0);
        return n;
      }
      const n = Math.min(maxFrames, this.head - pos);
      copyBytes(this.pending, this.pendingLead + (rel - inflightFrames) * FRAME_SIZE, n * FRAME_SIZE, dst, 0);
      return n;
    }
    const seg = this.segmentAt(pos);
    if (!seg) return 0;
    const n = Math.min(maxFrames, seg.endPos - pos);
    if (seg.readFd === null) seg.readFd = openSync(join(this.opts.dir, segmentName(seg.startPos)), "r");
    const want = n * FRAME_SIZE;
    let got = 0;
    while (got < want) {
      const r = readSync(seg.readFd, dst, got, want - got, (pos - seg.startPos) * FRAME_SIZE + got);
      if (r <= 0) break;
      got += r;
    }
    return Math.floor(got / FRAME_SIZE);
  }

  get oldestPos(): number {
    return this.segments[0]?.startPos ?? this.head;
  }

  /** Journal seq of the oldest frame still held for exchange `ex` (= the head seq when none is held). */
  oldestSeq(ex: number): number {
    return this.segments[0]?.first.state.jseq[ex] ?? this.state.jseq[ex]!;
  }

  /** Every commit record of a segment, oldest first (read from its .idx file: resume lookups only). */
  records(seg: Segment): CommitRecord[] {
    return readRecords(readFileSync(join(this.opts.dir, indexName(seg.startPos))));
  }

  /** The live sequence state (what the next frame of each exchange will get). */
  get seqState(): SeqState {
    return this.state;
  }

  segmentAt(pos: number): Segment | undefined {
    const segs = this.segments;
    for (let i = segs.length - 1; i >= 0; i--) if (segs[i]!.startPos <= pos) return segs[i];
    return undefined;
  }

  /** Flush, fsync and close (shutdown). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.closing = true;
    if (this.rotating) {
      // The old segment's files are being synced and closed on the thread pool and no new one is open yet;
      // the pending frames were never acknowledged (collectors resend).
      this.closed = true;
      for (const s of this.segments) if (s.readFd !== null) closeSync(s.readFd);
      return;
    }
    // A write still in flight is not waited for: its frames were never acknowledged (collectors resend).
    this.flush(true);
    this.closed = true;
    if (this.fileEnd > this.current.bytes) ftruncateSync(this.writeFd, this.current.bytes);
    if (this.directFd !== null) closeSync(this.directFd);
    fsyncSync(this.writeFd);
    fsyncSync(this.indexFd);
    closeSync(this.writeFd);
    closeSync(this.indexFd);
    for (const s of this.segments) if (s.readFd !== null) closeSync(s.readFd);
  }

  private fsyncIfDue(): void {
    const now = Date.now();
    if (this.opts.fsyncMs === 0) {
      fsyncSync(this.writeFd);
      fsyncSync(this.indexFd);
      this.stats.fsyncs++;
      return;
    }
    if (this.fsyncing || now - this.lastFsync < this.opts.fsyncMs) return;
    this.fsyncing = true;
    this.lastFsync = now;
    const frames = this.writeFd;
    const index = this.indexFd;
    // On the thread pool: the event loop (fan-out) never waits for the disk.
    fsync(frames, (e1) => {
      fsync(index, (e2) => {
        this.fsyncing = false;
        this.stats.fsyncs++;
        const error = e1 ?? e2;
        if (error) this.log.limited("error", "journal-fsync", "journal fsync failed", { error });
      });
    });
  }

  /**
   * Close the current segment and begin the next, at the committed position (frames appended since are still
   * pending: they are the new segment's first). The old frames and index files are fsynced on the thread pool,
   * both at once, and only then is the next segment created (nothing of it exists before the old one is on
   * disk); its files are closed and the new index's first record fsynced on the thread pool without waiting.
   * The event loop never waits for the disk; flushes wait only for the two fsyncs (one event-loop turn, where a
   * chain of six turns stalled the journal ~36 ms per rotation at max rate).
   */
  private rotate(): void {
    const old = this.current;
    const oldFrames = this.writeFd;
    const oldDirect = this.directFd;
    const oldIndex = this.indexFd;
    const padded = this.fileEnd > old.bytes;
    const startPos = this.committed;
    const state = newSeqStateFrom(this.recordState); // the sequence state at `committed`
    this.rotating = true;
    const fail = (what: string, error: NodeJS.ErrnoException | null) => {
      if (error) this.log.limited("error", "journal-rotate", `journal rotation: ${what} failed`, { error });
    };
    let syncing = 2;
    const synced = (what: string) => (error: NodeJS.ErrnoException | null) => {
      fail(what, error);
      if (--syncing > 0) return;
      close(oldFrames, (e) => fail("close of the closed segment", e));
      if (oldDirect !== null) close(oldDirect, (e) => fail("close of the closed segment", e));
      close(oldIndex, (e) => fail("close of the closed index", e));
      if (this.closed) return;
      const created = this.createSegment(startPos, state, false);
      this.current = created.segment;
      this.writeFd = created.writeFd;
      this.directFd = created.directFd;
      this.indexFd = created.indexFd;
      this.rotating = false;
      fsync(created.indexFd, (e) => fail("fsync of the new index", e));
      this.log.info("journal segment closed", {
        startPos: old.startPos,
        endPos: old.endPos,
        bytes: old.bytes,
      });
      this.retain();
      this.updateStats();
      this.flush();
    };
    // The last direct write's padding goes first: a closed segment is exactly its frames.
    const syncFrames = () => fsync(oldFrames, synced("fsync of the closed segment"));
    if (padded)
      ftruncate(oldFrames, old.bytes, (e) => {
        fail("cutting the closed segment's padding", e);
        syncFrames();
      });
    else syncFrames();
    fsync(oldIndex, synced("fsync of the closed index"));
  }

  /** A new segment starting at `startPos`; its first record is the state there (lookups start from it). */
  private createSegment(
    startPos: number,
    state: SeqState = this.state,
    syncIndex = true,
  ): { segment: Segment; writeFd: number; directFd: number | null; indexFd: number } {
    const path = join(this.opts.dir, segmentName(startPos));
    const writeFd = openSync(path, "w+");
    const directFd = this.openDirect(path);
    this.fileEnd = 0;
    const indexFd = openSync(join(this.opts.dir, indexName(startPos)), "a");
    const record: CommitRecord = {
      endPos: startPos,
      maxTsRecv: this.maxTsRecv,
      committedAt: Date.now(),
      state: newSeqStateFrom(state),
    };
    writeRecord(this.recordBuf, 0, record);
    writeSync(indexFd, new Uint8Array(this.recordBuf.buffer));
    if (syncIndex) fsyncSync(indexFd);
    const segment: Segment = {
      startPos,
      endPos: startPos,
      bytes: 0,
      createdAt: Date.now(),
      first: record,
      lastRecord: record,
      readFd: null,
    };
    this.segments.push(segment);
    return { segment, writeFd, directFd, indexFd };
  }

  /** Delete closed segments past the age or size bound, oldest first, once archived (or if not required). */
  retain(): void {
    const { victims, waiting } = retentionVictims(this.opts, this.segments, this.current, Date.now());
    this.stats.waitingArchive = waiting;
    for (const seg of victims) {
      removeSegment(this.opts.dir, seg, this.log);
      this.segments.shift();
      this.stats.deletedSegments++;
    }
    if (victims.length > 0) this.updateStats();
  }

  private updateStats(): void {
    let bytes = 0;
    for (const s of this.segments) bytes += s.bytes;
    this.stats.bytes = bytes;
    this.stats.segments = this.segments.length;
    this.stats.oldestPos = this.oldestPos;
    this.stats.headPos = this.head;
  }
}

/** Copy `length` bytes from byte `from` of a chunk list (chunk k holds bytes from k * CHUNK_BYTES) into `dst`. */
function copyBytes(chunks: Uint8Array[], from: number, length: number, dst: Uint8Array, at: number): void {
  let done = 0;
  while (done < length) {
    const c = Math.floor((from + done) / CHUNK_BYTES);
    const off = from + done - c * CHUNK_BYTES;
    const n = Math.min(CHUNK_BYTES - off, length - done);
    dst.set(chunks[c]!.subarray(off, off + n), at + done);
    done += n;
  }
}

function newSeqStateFrom(from: SeqState): SeqState {
  const s = newSeqState();
  copyState(from, s);
  return s;
}
