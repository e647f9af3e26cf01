// Collector side of the relay: validates every frame, tracks the per-exchange sequence (restarts, gaps,
// backward jumps) and lays the frames of one read into a FrameBatch, with RelayGap frames placed right
// before the frame that revealed the gap. One read of one connection is handled atomically, so order per
// exchange is kept.
import type { Logger } from "../lib/log.ts";
import {
  EXCHANGE_NAMES,
  type Exchange,
  FRAME_ERROR_NAMES,
  FRAME_SIZE,
  FrameError,
  isValidHead,
  Kind,
  Status,
  validateFrame,
} from "../schema/frame.ts";
import { FrameBatch } from "./batch.ts";
import { hopLatencyNs } from "./hop.ts";
import type { RelayMetrics } from "./metrics.ts";

/** One collector connection: a partial frame carried across reads and the exchanges it has fed. */
export class IngestConnection {
  readonly carry = new Uint8Array(FRAME_SIZE);
  readonly carryView = new DataView(this.carry.buffer);
  carried = 0;
  /** Bit per exchange id this connection has sent frames for. */
  exchanges = 0;
  frames = 0;
  constructor(readonly id: number) {}
}

const OK = 0;
const GAP = 2;
const HALF_RANGE = 2 ** 31;

/** Every valid (exchange << 4) | kind index. */
export const VALID_INDEXES: readonly number[] = [
  0x11, 0x12, 0x13, 0x14, 0x21, 0x22, 0x23, 0x24, 0x31, 0x32, 0x33, 0x34,
];

export class Ingest {
  readonly batch = new FrameBatch();
  /** Next expected seq per exchange (valid when tracked[ex] = 1). */
  private readonly expected = new Uint32Array(16);
  private readonly tracked = new Uint8Array(16);
  /** Connection id currently feeding each exchange (0 = none). */
  private readonly owner = new Uint32Array(16);
  private sampleCounter = 0;
  private readonly sampleMask: number;
  // The gap found by the last sequence(), for the caller to emit.
  private gapFirst = 0;
  private gapCount = 0;
  private readonly inCounts = new Float64Array(64);

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
    latencySampleEvery: number,
  ) {
    this.sampleMask = latencySampleEvery - 1;
  }

  /** Turn one read into the batch (reset first). */
  read(conn: IngestConnection, chunk: Uint8Array): FrameBatch {
    const batch = this.batch;
    batch.reset();
    let pos = 0;
    const len = chunk.byteLength;
    if (conn.carried > 0) {
      const take = Math.min(FRAME_SIZE - conn.carried, len);
      conn.carry.set(chunk.subarray(0, take), conn.carried);
      conn.carried += take;
      pos = take;
      if (conn.carried < FRAME_SIZE) return batch;
      conn.carried = 0;
      this.take(conn, conn.carryView, conn.carry, 0, FRAME_SIZE, false);
    }
    const whole = pos + Math.floor((len - pos) / FRAME_SIZE) * FRAME_SIZE;
    if (whole > pos) {
      // No DataView per read: the loop reads bytes; one is made only for an invalid frame or a latency sample.
      this.take(conn, null, chunk, pos, whole, true);
    }
    if (whole < len) {
      conn.carry.set(chunk.subarray(whole), 0);
      conn.carried = len - whole;
    }
    return batch;
  }

  /**
   * Check frames in [start, end) and append them in runs; a run breaks only at an invalid frame or a gap.
   * The loop is the relay's hot path: byte loads, table updates, and the sequence fast path inline.
   */
  private take(
    conn: IngestConnection,
    viewIn: DataView | null,
    bytes: Uint8Array,
    start: number,
    end: number,
    mayBorrow: boolean,
  ): void {
    const batch = this.batch;
    const counts = this.inCounts;
    const expected = this.expected;
    const tracked = this.tracked;
    const owner = this.owner;
    const mask = this.sampleMask;
    let view = viewIn;
    let exchanges = conn.exchanges;
    let valid = 0;
    let runStart = start;
    for (let off = start; off < end; off += FRAME_SIZE) {
      const b0 = bytes[off]!;
      const b1 = bytes[off + 1]!;
      const kind = b0 & 0x0f;
      if (!isValidHead(b0, b1)) {
        if (view === null) view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        this.invalid(conn, view, off);
        batch.append(bytes, runStart, off);
        runStart = off + FRAME_SIZE;
        continue;
      }
      const ex = b1 & 0x0f;
      counts[(ex << 4) | kind]!++;
      valid++;
      exchanges |= 1 << ex;
      if (owner[ex] !== conn.id) this.claim(conn, ex);
      if ((++this.sampleCounter & mask) === 0) {
        if (view === null) view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        this.sampleLatency(view, off);
      }
      // u32 little-endian seq at byte 4
      const seq =
        (bytes[off + 4]! | (bytes[off + 5]! << 8) | (bytes[off + 6]! << 16) | (bytes[off + 7]! << 24)) >>> 0;
      if (seq === expected[ex] && seq !== 0 && tracked[ex] === 1) {
        expected[ex] = seq + 1; // Uint32Array: 2^32 wraps to 0, contiguous
        continue;
      }
      if (this.sequence(conn, ex, kind, b0, seq) === GAP) {
        batch.append(bytes, runStart, off);
        batch.appendStatus(Status.RelayGap, ex as Exchange, this.gapFirst, this.gapFirst, this.gapCount);
        runStart = off;
      }
    }
    // A clean read (nothing staged before, no break in the run) is passed on without a copy. Never the carry
    // buffer: it is reused for the next partial frame before the batch is fanned out.
    if (mayBorrow && runStart === start && batch.length === 0) batch.borrow(bytes, start, end - start);
    else batch.append(bytes, runStart, end);
    conn.exchanges = exchanges;
    conn.frames += valid;
    // Metrics once per read, not per frame.
    const framesIn = this.metrics.framesIn;
    for (const index of VALID_INDEXES) {
      const n = counts[index]!;
      if (n === 0) continue;
      framesIn[index]!.inc(n);
      batch.counts[index]! += n;
      counts[index] = 0;
    }
  }

  private invalid(conn: IngestConnection, view: DataView, off: number): void {
    const error = validateFrame(view, off);
    this.metrics.invalid[error === FrameError.None ? FrameError.Truncated : error]!.inc();
    this.log.limited("warn", `invalid-${conn.id}`, "invalid frame from collector dropped", {
      connection: conn.id,
      reason: FRAME_ERROR_NAMES[error],
      head: view.getUint32(off, true),
    });
  }

  /** The slow path of sequence tracking: start/restart, first frame seen, gaps and backward jumps. */
  private sequence(conn: IngestConnection, ex: number, kind: number, b0: number, seq: number): number {
    if (seq === 0 && kind === Kind.Status && b0 >> 4 === Status.CollectorStart) {
      this.metrics.starts[ex]!.inc();
      if (this.tracked[ex] === 1) {
        this.metrics.restarts[ex]!.inc();
        this.log.warn("collector restart detected", {
          exchange: EXCHANGE_NAMES[ex],
          expectedSeq: this.expected[ex],
        });
      } else {
        this.log.info("collector started", { exchange: EXCHANGE_NAMES[ex], connection: conn.id });
      }
      this.tracked[ex] = 1;
      this.expected[ex] = 1;
      return OK;
    }
    if (this.tracked[ex] === 0) {
      // The collector was running before the relay: its current seq becomes the baseline.
      this.tracked[ex] = 1;
      this.expected[ex] = seq + 1;
      this.log.info("collector joined mid-stream", { exchange: EXCHANGE_NAMES[ex], seq });
      return OK;
    }
    const expected = this.expected[ex]!;
    this.expected[ex] = seq + 1;
    if (seq === expected) return OK;
    const missing = (seq - expected) >>> 0;
    if (missing >= HALF_RANGE) {
      this.metrics.seqResets[ex]!.inc();
      this.log.limited("warn", `reset-${ex}`, "sequence went backwards without a CollectorStart; re-based", {
        exchange: EXCHANGE_NAMES[ex],
        expected,
        seq,
      });
      return OK;
    }
    this.metrics.gaps[ex]!.inc();
    this.metrics.missing[ex]!.inc(missing);
    this.log.limited("warn", `gap-${ex}`, "sequence gap from collector", {
      exchange: EXCHANGE_NAMES[ex],
      firstMissing: expected,
      missing,
    });
    this.gapFirst = expected;
    this.gapCount = missing;
    return GAP;
  }

  private claim(conn: IngestConnection, ex: number): void {
    const previous = this.owner[ex]!;
    if (previous !== 0) {
      this.log.limited("warn", `owner-${ex}`, "a second collector connection is feeding the same exchange", {
        exchange: EXCHANGE_NAMES[ex],
        previous,
        connection: conn.id,
      });
    }
    this.owner[ex] = conn.id;
  }

  private sampleLatency(view: DataView, off: number): void {
    const ns = hopLatencyNs(view, off);
    // tsRecv 0 (unstamped) or a clock far off shows as absurd values: keep them out of the histogram.
    if (ns >= 0 && ns < 60e9) this.metrics.hopLatencyUs.observe(ns / 1000);
  }

  /**
   * A collector connection closed: a Disconnected frame (id = next expected seq) for each exchange it was
   * the current feeder of, so the outage is visible downstream. Returns the batch (maybe empty).
   */
  closed(conn: IngestConnection): FrameBatch {
    const batch = this.batch;
    batch.reset();
    if (conn.carried > 0) {
      this.metrics.invalid[FrameError.Truncated]!.inc();
      this.log.warn("collector closed mid-frame; partial frame dropped", {
        connection: conn.id,
        bytes: conn.carried,
      });
      conn.carried = 0;
    }
    for (let ex = 1; ex < 16; ex++) {
      if ((conn.exchanges & (1 << ex)) === 0 || this.owner[ex] !== conn.id) continue;
      this.owner[ex] = 0;
      this.metrics.collectorDisconnects[ex]?.inc();
      const next = this.expected[ex]!;
      batch.appendStatus(Status.Disconnected, ex as Exchange, next, next, 0);
      this.log.warn("collector disconnected", {
        exchange: EXCHANGE_NAMES[ex],
        connection: conn.id,
        nextSeq: next,
      });
    }
    return batch;
  }
}
