// Collector side of the relay: validates every frame (header and values, schema/frame.ts), binds each connection
// to the exchange of its first valid frame and refuses frames for any other, tracks the per-exchange sequence
// (restarts, gaps, backward jumps) and lays the frames of one read into a FrameBatch, with RelayGap frames
// placed right before the frame that revealed the gap. One read of one connection is handled atomically, so
// order per exchange is kept.
import type { Logger } from "../lib/log.ts";
import {
  byteSeq,
  EXCHANGE_NAMES,
  type Exchange,
  FRAME_ERROR_NAMES,
  FRAME_SIZE,
  FrameError,
  FrameOffset,
  frameExchange,
  frameId,
  framePrice,
  isAcceptable,
  Kind,
  Status,
  setByteSeq,
  validateFrame,
} from "../schema/frame.ts";
import { hopLatencyNs } from "../schema/stamp.ts";
import { type FrameCarry, splitRead, type WholeFrames } from "../schema/stream.ts";
import { FrameBatch } from "./batch.ts";
import { COLLECTOR, ExchangeFeeders, PASSTHROUGH } from "./feeders.ts";
import { newSeqState, type SeqState } from "./journal/record.ts";
import type { RelayMetrics } from "./metrics.ts";

/** One collector connection: a partial frame carried across reads and the exchange it is bound to. */
export class IngestConnection implements FrameCarry {
  readonly carry = new Uint8Array(FRAME_SIZE);
  readonly carryView = new DataView(this.carry.buffer);
  carried = 0;
  /** The exchange of this connection's first valid frame (0 = none yet); frames for any other are refused. */
  exchange = 0;
  frames = 0;
  /** Frames refused for carrying another exchange's id. */
  foreign = 0;
  /** The exchange this connection was last refused for because the other ingest kind feeds it (0 = none). */
  refusedFor = 0;
  /** Frames refused for that reason (relay/feeders.ts). */
  conflicts = 0;
  /** Collector seq of the last frame of this connection's exchange handled (journaled or a duplicate). */
  lastSeq = -1;
  /** lastSeq as of the end of the last read, and the journal head then (an ack may go once it is committed). */
  ackSeq = -1;
  ackPos = 0;
  /** The last seq acknowledged to the collector. */
  ackedSeq = -1;
  /** The unwritten rest of an ack frame (relay/ack.ts). */
  ackPending: Uint8Array | null = null;
  constructor(readonly id: number) {}
}

const O_KIND = FrameOffset.kindFlags;
const O_VER_EX = FrameOffset.versionExchange;
const OK = 0;
const DUPLICATE = 1;
const GAP = 2;
const HALF_RANGE = 2 ** 31;

/** Every valid (exchange << 4) | kind index. */
export const VALID_INDEXES: readonly number[] = [
  0x11, 0x12, 0x13, 0x14, 0x21, 0x22, 0x23, 0x24, 0x31, 0x32, 0x33, 0x34,
];

export class Ingest implements WholeFrames<IngestConnection> {
  readonly batch = new FrameBatch();
  /** Next expected collector seq per exchange (valid when tracked[ex] = 1), and next journal seq. */
  private readonly expected: Uint32Array;
  private readonly tracked: Uint8Array;
  private readonly jseq: Float64Array;
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
    /** Shared with the journal, which commits it and restores it at start-up. */
    readonly state: SeqState = newSeqState(),
    /** Which ingest kind holds each exchange; shared with the pass-through ingest (relay/feeders.ts). */
    readonly feeders: ExchangeFeeders = new ExchangeFeeders(metrics, log),
  ) {
    this.sampleMask = latencySampleEvery - 1;
    this.expected = state.expected;
    this.tracked = state.tracked;
    this.jseq = state.jseq;
  }

  /** Turn one read (bytes [0, length) of `chunk`) into the batch (reset first). */
  read(conn: IngestConnection, chunk: Uint8Array, length = chunk.byteLength): FrameBatch {
    this.batch.reset();
    splitRead(conn, chunk, length, this);
    return this.batch;
  }

  /**
   * Check frames in [start, end) and append them in runs; a run breaks only at an invalid frame or a gap.
   * The loop is the relay's hot path: byte loads, table updates, and the sequence fast path inline.
   */
  take(conn: IngestConnection, bytes: Uint8Array, start: number, end: number, fromCarry: boolean): void {
    const batch = this.batch;
    const counts = this.inCounts;
    const expected = this.expected;
    const tracked = this.tracked;
    const jseq = this.jseq;
    const owner = this.owner;
    const mask = this.sampleMask;
    // No DataView per read: the loop reads bytes; one is made only for an invalid frame or a latency sample.
    let view: DataView | null = fromCarry ? conn.carryView : null;
    let bound = conn.exchange;
    let valid = 0;
    let runStart = start;
    for (let off = start; off < end; off += FRAME_SIZE) {
      const b0 = bytes[off + O_KIND]!;
      const b1 = bytes[off + O_VER_EX]!;
      const kind = b0 & 0x0f;
      const ok = isAcceptable(bytes, off); // schema/frame.ts: the codec's own header and value rules
      const ex = b1 & 0x0f;
      if (!ok || (ex !== bound && bound !== 0)) {
        if (view === null) view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (!ok) this.invalid(conn, view, off);
        else this.foreign(conn, view, off);
        batch.append(bytes, runStart, off);
        runStart = off + FRAME_SIZE;
        continue;
      }
      if (bound === 0) {
        // Once per connection (and per frame only while refused): the pass-through ingest may hold `ex`.
        if (!this.feeders.bind(conn, COLLECTOR, ex)) {
          batch.append(bytes, runStart, off);
          runStart = off + FRAME_SIZE;
          continue;
        }
        bound = this.bind(conn, ex);
      }
      if (owner[ex] !== conn.id) this.claim(conn, ex);
      const seq = byteSeq(bytes, off);
      conn.lastSeq = seq;
      if (seq === expected[ex] && seq !== 0 && tracked[ex] === 1) {
        expected[ex] = seq + 1; // Uint32Array: 2^32 wraps to 0, contiguous
      } else {
        const verdict = this.sequence(conn, bytes, off, ex, kind, b0, seq);
        if (verdict === DUPLICATE) {
          batch.append(bytes, runStart, off);
          runStart = off + FRAME_SIZE;
          continue;
        }
        if (verdict === GAP) {
          batch.append(bytes, runStart, off);
          batch.appendStatus(Status.RelayGap, ex as Exchange, jseq[ex]!, this.gapFirst, this.gapCount);
          jseq[ex]!++;
          runStart = off;
        }
      }
      // The frame's seq becomes its journal seq (low 32 bits): contiguous per exchange for every consumer.
      setByteSeq(bytes, off, jseq[ex]!);
      jseq[ex]!++;
      counts[(ex << 4) | kind]!++;
      valid++;
      if ((++this.sampleCounter & mask) === 0) {
        if (view === null) view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        this.sampleLatency(view, off);
      }
    }
    // A clean read (nothing staged before, no break in the run) is passed on without a copy. Never the carry
    // buffer: it is reused for the next partial frame before the batch is fanned out.
    if (!fromCarry && runStart === start && batch.length === 0) batch.borrow(bytes, start, end - start);
    else batch.append(bytes, runStart, end);
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

  /** The first valid frame of a connection binds it to that frame's exchange for good. */
  private bind(conn: IngestConnection, ex: number): number {
    conn.exchange = ex;
    this.log.info("collector connection bound", { connection: conn.id, exchange: EXCHANGE_NAMES[ex] });
    return ex;
  }

  /** A frame for another exchange than the connection's: refused, counted, never touches that exchange. */
  private foreign(conn: IngestConnection, view: DataView, off: number): void {
    conn.foreign++;
    this.metrics.foreignFrames[conn.exchange]!.inc();
    this.log.limited(
      "warn",
      `foreign-${conn.id}`,
      "frame for another exchange on a collector connection dropped",
      {
        connection: conn.id,
        boundTo: EXCHANGE_NAMES[conn.exchange],
        frameExchange: EXCHANGE_NAMES[frameExchange(view, off)],
        refused: conn.foreign,
      },
    );
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
  private sequence(
    conn: IngestConnection,
    bytes: Uint8Array,
    off: number,
    ex: number,
    kind: number,
    b0: number,
    seq: number,
  ): number {
    if (seq === 0 && kind === Kind.Status && b0 >> 4 === Status.CollectorStart) {
      const start = new DataView(bytes.buffer, bytes.byteOffset + off, FRAME_SIZE);
      const pid = frameId(start, 0) >>> 0;
      const startMs = framePrice(start, 0);
      const s = this.state;
      if (s.tracked[ex] === 1 && s.runPid[ex] === pid && s.runStart[ex] === startMs) {
        this.metrics.duplicates[ex]!.inc(); // the same run's start, resent
        return DUPLICATE;
      }
      this.metrics.starts[ex]!.inc();
      if (s.tracked[ex] === 1) {
        this.metrics.restarts[ex]!.inc();
        this.log.warn("collector restart detected", {
          exchange: EXCHANGE_NAMES[ex],
          expectedSeq: s.expected[ex],
        });
      } else if (s.tracked[ex] === PASSTHROUGH) {
        this.log.warn("collectors take over an exchange fed by pass-through", {
          exchange: EXCHANGE_NAMES[ex],
          connection: conn.id,
        });
      } else {
        this.log.info("collector started", { exchange: EXCHANGE_NAMES[ex], connection: conn.id });
      }
      s.tracked[ex] = 1;
      s.expected[ex] = 1;
      s.runPid[ex] = pid;
      s.runStart[ex] = startMs;
      return OK;
    }
    if (this.tracked[ex] !== 1) {
      // The collector was running before the relay (or the exchange was fed by pass-through, whose expected
      // seq is another relay's): its current seq becomes the baseline; the journal seq goes on.
      if (this.tracked[ex] === PASSTHROUGH)
        this.log.warn("collectors take over an exchange fed by pass-through", {
          exchange: EXCHANGE_NAMES[ex],
          connection: conn.id,
          seq,
        });
      else this.log.info("collector joined mid-stream", { exchange: EXCHANGE_NAMES[ex], seq });
      this.tracked[ex] = 1;
      this.expected[ex] = seq + 1;
      return OK;
    }
    const expected = this.expected[ex]!;
    if (seq === expected) {
      this.expected[ex] = seq + 1;
      return OK;
    }
    const missing = (seq - expected) >>> 0;
    if (missing >= HALF_RANGE) {
      // Behind the expected seq: a frame the journal already has (a collector resending what was not yet
      // acknowledged when the connection or the relay went away). Dropped, counted, acknowledged.
      this.metrics.duplicates[ex]!.inc();
      return DUPLICATE;
    }
    this.expected[ex] = seq + 1;
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
    const ex = conn.exchange;
    this.feeders.release(COLLECTOR, ex);
    if (ex !== 0 && this.owner[ex] === conn.id) {
      this.owner[ex] = 0;
      this.metrics.collectorDisconnects[ex]?.inc();
      const next = this.expected[ex]!;
      batch.appendStatus(Status.Disconnected, ex as Exchange, this.jseq[ex]!, next, 0);
      this.jseq[ex]!++;
      this.log.warn("collector disconnected", {
        exchange: EXCHANGE_NAMES[ex],
        connection: conn.id,
        nextSeq: next,
      });
    }
    return batch;
  }
}
