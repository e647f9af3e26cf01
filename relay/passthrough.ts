// Pass-through ingest (issue 13, link/README.md): the ingest side of an importing relay. Frames arrive already
// sequenced by another relay (its journal seq, per exchange) and keep that seq here, so this relay's consumers
// see the same frames with the same seqs, and the exporting relay's own RelayGap / Disconnected / collector
// status frames unchanged. What it still does: validate every frame, bind a connection to one exchange, drop
// duplicates (a seq at or behind the last one taken: a resend after a reconnect), and report a forward jump (the
// link lost frames, e.g. past JetStream's retention) as a Status `Gap` frame with the resume-gap fields:
// id = first missing seq, price = exact count, seq = the last missing one. It makes no frame of its own besides
// that (a link's connection closing is not an event of the exporting relay's tape, so no Disconnected).
// Acks are the same as for collectors (relay/ack.ts): the last seq handled. An exchange a collector connection
// is bound to is refused here, and the reverse (relay/feeders.ts).
import type { Socket, SocketListener } from "bun";
import type { Logger } from "../lib/log.ts";
import {
  byteSeq,
  EXCHANGE_NAMES,
  type Exchange,
  FRAME_SIZE,
  FrameError,
  FrameOffset,
  isValidHead,
  Status,
  validateFrame,
  valuesOk,
} from "../schema/frame.ts";
import { splitRead, type WholeFrames } from "../schema/stream.ts";
import { FrameBatch } from "./batch.ts";
import { ExchangeFeeders, PASSTHROUGH } from "./feeders.ts";
import { IngestConnection, VALID_INDEXES } from "./ingest.ts";
import type { SeqState } from "./journal/record.ts";
import type { RelayMetrics } from "./metrics.ts";
import { claimSocketPath, ensurePrivateDir, removeSocketFile } from "./sockets.ts";

const TWO32 = 4294967296;
const HALF = 2 ** 31;
const O_KIND = FrameOffset.kindFlags;
const O_VER_EX = FrameOffset.versionExchange;

export class PassthroughIngest implements WholeFrames<IngestConnection> {
  readonly batch = new FrameBatch();
  private readonly counts = new Float64Array(64);

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
    /** Shared with the journal (committed, restored at start-up) and with the collector ingest. */
    readonly state: SeqState,
    /** Which ingest kind holds each exchange; shared with the collector ingest (relay/feeders.ts). */
    readonly feeders: ExchangeFeeders = new ExchangeFeeders(metrics, log),
  ) {}

  /** One read of one connection → the batch (reset first); a partial frame is carried to the next read. */
  read(conn: IngestConnection, chunk: Uint8Array): FrameBatch {
    this.batch.reset();
    splitRead(conn, chunk, chunk.byteLength, this);
    this.countIn();
    return this.batch;
  }

  /** Frames in [start, end): appended in runs, broken by a refused frame, a duplicate or a gap frame. */
  take(conn: IngestConnection, bytes: Uint8Array, start: number, end: number, fromCarry: boolean): void {
    const { batch, counts } = this;
    const { expected, tracked, jseq } = this.state;
    let runStart = start;
    for (let off = start; off < end; off += FRAME_SIZE) {
      const b0 = bytes[off + O_KIND]!;
      const b1 = bytes[off + O_VER_EX]!;
      const ex = b1 & 0x0f;
      const ok = isValidHead(b0, b1) && valuesOk(bytes, off);
      if (!ok || (conn.exchange !== 0 && ex !== conn.exchange)) {
        this.refuse(conn, bytes, off, ok);
        batch.append(bytes, runStart, off);
        runStart = off + FRAME_SIZE;
        continue;
      }
      // Once per connection (per frame only while refused: a collector connection holds `ex`).
      if (conn.exchange === 0 && !this.bind(conn, ex)) {
        batch.append(bytes, runStart, off);
        runStart = off + FRAME_SIZE;
        continue;
      }
      const seq = byteSeq(bytes, off);
      conn.lastSeq = seq;
      if (tracked[ex] !== PASSTHROUGH) this.baseline(ex, seq);
      else if (seq !== expected[ex]) {
        const ahead = (seq - expected[ex]!) >>> 0;
        if (ahead >= HALF) {
          this.metrics.duplicates[ex]!.inc(); // already taken: a resend after a reconnect
          batch.append(bytes, runStart, off);
          runStart = off + FRAME_SIZE;
          continue;
        }
        batch.append(bytes, runStart, off);
        runStart = off;
        this.gap(ex, expected[ex]!, ahead);
      }
      expected[ex] = seq + 1; // Uint32Array: wraps
      jseq[ex]!++;
      counts[(ex << 4) | (b0 & 0x0f)]!++;
      conn.frames++;
    }
    // A clean read is passed on without a copy (never the carry buffer: it is reused before fan-out).
    if (!fromCarry && runStart === start && batch.length === 0) batch.borrow(bytes, start, end - start);
    else batch.append(bytes, runStart, end);
  }

  /** First frame of an exchange here: its seq is where this relay's sequence for it continues. */
  private baseline(ex: number, seq: number): void {
    const s = this.state;
    const j = s.jseq[ex]!;
    let next = Math.floor(j / TWO32) * TWO32 + seq;
    if (next < j - HALF) next += TWO32;
    if (s.tracked[ex] === 1)
      this.log.warn("pass-through takes over an exchange fed by collectors", {
        exchange: EXCHANGE_NAMES[ex],
      });
    else
      this.log.info("pass-through exchange joined", { exchange: EXCHANGE_NAMES[ex], seq, journalSeq: next });
    s.tracked[ex] = PASSTHROUGH;
    s.jseq[ex] = next;
  }

  /** `count` seqs from `first` (u32) never arrived: one Gap frame at the last of them, then the frame. */
  private gap(ex: number, first: number, count: number): void {
    const j = this.state.jseq[ex]!; // u64 of `first`
    this.batch.appendStatus(Status.Gap, ex as Exchange, j + count - 1, j, count);
    this.state.jseq[ex] = j + count;
    this.metrics.gaps[ex]!.inc();
    this.metrics.missing[ex]!.inc(count);
    this.log.limited("warn", `passthrough-gap-${ex}`, "pass-through sequence gap", {
      exchange: EXCHANGE_NAMES[ex],
      firstMissing: first,
      missing: count,
    });
  }

  private bind(conn: IngestConnection, ex: number): boolean {
    if (!this.feeders.bind(conn, PASSTHROUGH, ex)) return false;
    conn.exchange = ex;
    this.log.info("pass-through connection bound", { connection: conn.id, exchange: EXCHANGE_NAMES[ex] });
    return true;
  }

  private refuse(conn: IngestConnection, bytes: Uint8Array, off: number, valid: boolean): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset + off, FRAME_SIZE);
    if (valid) {
      conn.foreign++;
      this.metrics.foreignFrames[conn.exchange]!.inc();
    } else {
      const error = validateFrame(view, 0);
      this.metrics.invalid[error === FrameError.None ? FrameError.Truncated : error]!.inc();
    }
    this.log.limited("warn", `passthrough-refused-${conn.id}`, "frame refused on a pass-through connection", {
      connection: conn.id,
      reason: valid ? "foreign exchange" : "invalid",
    });
  }

  private countIn(): void {
    const framesIn = this.metrics.framesIn;
    for (const index of VALID_INDEXES) {
      const n = this.counts[index]!;
      if (n === 0) continue;
      framesIn[index]!.inc(n);
      this.batch.counts[index]! += n;
      this.counts[index] = 0;
    }
  }

  /** A connection closed: a partial frame is dropped; nothing enters the tape. */
  closed(conn: IngestConnection): FrameBatch {
    this.batch.reset();
    if (conn.carried > 0) this.metrics.invalid[FrameError.Truncated]!.inc();
    conn.carried = 0;
    this.feeders.release(PASSTHROUGH, conn.exchange);
    return this.batch;
  }
}

export interface PassthroughDeps {
  metrics: RelayMetrics;
  log: Logger;
  state: SeqState;
  /** Shared with the collector ingest: one feeder kind per exchange. */
  feeders: ExchangeFeeders;
  /** Journal then fan-out, as for collector reads. */
  pass(batch: FrameBatch): void;
  /** The connections acks go to (shared with the collector socket). */
  ackTargets: Map<Socket<IngestConnection | undefined>, IngestConnection>;
  /** The journal head after a read (0 without a journal): the ack waits until it is committed. */
  head(): number;
  /**
   * A read brought nothing new (duplicates only, e.g. a link resending after a restart): no journal flush will
   * follow to carry its ack, so ack now if everything journaled is committed.
   */
  ackIdle(): void;
  /** The socket drained: finish a partly written ack (relay/ack.ts). */
  drain(socket: Socket<IngestConnection | undefined>, conn: IngestConnection): void;
}

/** Listen on the pass-through ingest socket (TAPEWIRE_RELAY_PASSTHROUGH_IN); stop() closes and unlinks it. */
export async function listenPassthrough(
  path: string,
  deps: PassthroughDeps,
): Promise<{ stop(): void; listener: SocketListener<IngestConnection | undefined> }> {
  ensurePrivateDir(path);
  if (await claimSocketPath(path)) deps.log.warn("removed stale pass-through socket file", { path });
  const ingest = new PassthroughIngest(deps.metrics, deps.log, deps.state, deps.feeders);
  let nextId = 1 << 30; // apart from the collector socket's connection ids
  const listener = Bun.listen<IngestConnection | undefined>({
    unix: path,
    socket: {
      open(socket) {
        socket.data = new IngestConnection(nextId++);
        deps.ackTargets.set(socket, socket.data);
        deps.log.info("pass-through connected", { connection: socket.data.id });
      },
      data(socket, data) {
        const conn = socket.data!;
        const batch = ingest.read(conn, data);
        deps.pass(batch);
        conn.ackSeq = conn.lastSeq;
        conn.ackPos = deps.head();
        if (batch.length === 0) deps.ackIdle();
      },
      drain(socket) {
        if (socket.data) deps.drain(socket, socket.data);
      },
      close(socket) {
        deps.ackTargets.delete(socket);
        deps.pass(ingest.closed(socket.data!));
      },
      error(socket, error) {
        deps.metrics.socketErrors.inc();
        deps.log.limited("error", "passthrough-error", "pass-through socket error", {
          connection: socket.data?.id,
          error,
        });
      },
    },
  });
  deps.log.info("pass-through ingest listening", { path });
  return {
    listener,
    stop() {
      listener.stop(true);
      const error = removeSocketFile(path);
      if (error) deps.log.error("could not remove socket file", { path, error });
    },
  };
}
