// Consumer side of the relay: a bounded, preallocated ring per consumer, filters compiled to lookup tables,
// one write per consumer per ingest read, and the slow-consumer policy: a consumer whose queue would exceed
// its bound gets a final SlowConsumer frame (room for it is reserved) and is disconnected; others never wait.
import type { Socket } from "bun";
import type { Logger } from "../lib/log.ts";
import {
  byteExchange,
  byteKindIndex,
  byteSeq,
  type Exchange,
  FRAME_SIZE,
  Status,
  tsRecvHi,
  tsRecvLo,
} from "../schema/frame.ts";
import { writeStatusFrame } from "../schema/stamp.ts";
import type { FrameBatch } from "./batch.ts";
import {
  type CompiledFilter,
  compileFilter,
  FilterError,
  type FilterLine,
  MAX_FILTER_LINE,
  PASS_ALL,
  parseFilterLine,
  passes,
} from "./filter.ts";
import { VALID_INDEXES } from "./ingest.ts";
import type { Journal } from "./journal/journal.ts";
import type { RelayMetrics } from "./metrics.ts";
import { MultiWriter } from "./multiwrite.ts";
import { ReplayCursor } from "./replay.ts";
import { FrameRing } from "./ring.ts";
import { setSendBuffer } from "./sockopt.ts";
import type { HopTrace } from "./trace.ts";

/**
 * A partial write of at least this many bytes means reads this large outrun the consumer socket's default
 * kernel buffer (~208 KiB on Linux): that consumer's SO_SNDBUF is raised once, so later reads go out in one
 * write instead of a partial write, a ring copy and a second write on drain. Small writes (a consumer that is
 * merely stopped at a low rate) never trigger it, so it starts queueing as soon as before.
 */
export const RAISE_SNDBUF_AT = 64 * 1024;

export class ConsumerConn {
  readonly ring: FrameRing;
  /** Queue bound; the ring holds one extra frame so the final SlowConsumer frame always fits. */
  readonly limit: number;
  filter: CompiledFilter = PASS_ALL;
  passAll = true;
  name = "anonymous";
  waitingDrain = false;
  /** SO_SNDBUF raised already (see RAISE_SNDBUF_AT). */
  bufferRaised = false;
  /** Cut for being slow: nothing more is queued; closed once the queue drains or the grace time ends. */
  cutting = false;
  graceTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Until its first filter line (or HOLD_MS): frames are queued, not written, so a resume line can drop them
   * and start from the journal instead without a duplicate.
   */
  holding = true;
  holdTimer: ReturnType<typeof setTimeout> | null = null;
  linesApplied = 0;
  /** Reading the journal before joining the live stream (resume); live batches skip it meanwhile. */
  replay: ReplayCursor | null = null;
  replayScheduled = false;
  framesOut = 0;
  dropped = 0;
  // Filter-line input.
  readonly decoder = new TextDecoder();
  lineBuf = "";
  discarding = false;

  constructor(
    readonly id: number,
    readonly socket: Socket<ConsumerConn | undefined>,
    queueBytes: number,
  ) {
    this.limit = Math.max(FRAME_SIZE, Math.floor(queueBytes / FRAME_SIZE) * FRAME_SIZE);
    this.ring = new FrameRing(this.limit + FRAME_SIZE);
  }

  get queuedBytes(): number {
    return this.ring.size;
  }
}

/** An empty slot of Fanout's per-batch consumer lists. */
const NONE = undefined as unknown as ConsumerConn;

/** How long a consumer that sends no filter line waits before frames go out (see ConsumerConn.holding). */
export const HOLD_MS = 500;
/** Journal frames read per step of a replay (one scratch buffer, reused). */
const REPLAY_CHUNK = 1365;
/** Replay steps per event-loop turn before yielding to the live path. */
const REPLAY_STEPS = 8;

export class Fanout {
  private readonly scratch = new Uint8Array(REPLAY_CHUNK * FRAME_SIZE);
  private readonly scratchWords = new Uint32Array(this.scratch.buffer);
  private readonly scratchView = new DataView(this.scratch.buffer);
  /** Set by the server when the journal is on; resume lines are refused (logged) without it. */
  journal: Journal | null = null;
  /** Consumers reading the journal (resume); each new batch lets them read on. */
  private replaying = 0;
  /** TAPEWIRE_RELAY_TRACE's recorder (per-consumer write times), or null. */
  trace: HopTrace | null = null;
  /**
   * The direct writes of a batch in one syscall (relay/multiwrite.ts: Linux AIO), so no consumer's wake-up
   * preempts the relay before the next consumer is written; null where unsupported (one write per consumer).
   */
  private multi: MultiWriter | null;
  /** The consumers of the current batch that are written directly (multi only), and those submitted. */
  private readonly direct: ConsumerConn[] = [];
  private readonly sent: ConsumerConn[] = [];

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
    private readonly slowGraceMs: number,
    readonly consumers: ConsumerConn[] = [],
    /** SO_SNDBUF asked for on a consumer whose large writes come back partial; 0 = leave the OS default. */
    private readonly socketBufferBytes = 0,
    /** TAPEWIRE_RELAY_MULTIWRITE: one io_submit per batch where available; false = one write per consumer. */
    multiwrite = true,
  ) {
    this.multi = multiwrite ? MultiWriter.create() : null;
  }

  /** The batches' direct writes go out in one io_submit (TAPEWIRE_RELAY_MULTIWRITE and Linux AIO). */
  get multiwrite(): boolean {
    return this.multi !== null;
  }

  /** io_submit calls so far (0 when multiwrite is off), for /metrics. */
  get submits(): number {
    return this.multi?.submits ?? 0;
  }

  /** Free the AIO context (at stop); later batches are written one consumer at a time. */
  close(): void {
    this.multi?.close();
    this.multi = null;
  }

  add(c: ConsumerConn): void {
    this.consumers.push(c);
    c.holdTimer = setTimeout(() => this.release(c), HOLD_MS);
    this.metrics.consumersConnected.inc();
    this.log.info("consumer connected", { consumer: c.id });
  }

  remove(c: ConsumerConn, reason: string): void {
    const i = this.consumers.indexOf(c);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (c.graceTimer) clearTimeout(c.graceTimer);
    if (c.holdTimer) clearTimeout(c.holdTimer);
    if (c.replay !== null) this.replaying--;
    c.replay = null;
    this.metrics.consumersConnected.dec();
    this.log.info("consumer disconnected", {
      consumer: c.id,
      name: c.name,
      reason,
      framesOut: c.framesOut,
      dropped: c.dropped,
    });
  }

  /** Queue a batch to every consumer that wants it, then write once per consumer. */
  distribute(batch: FrameBatch): void {
    const length = batch.length;
    if (length === 0) return;
    let fullCopies = 0;
    const consumers = this.consumers;
    const multi = this.multi;
    const direct = this.direct;
    let directs = 0;
    for (let i = 0; i < consumers.length; i++) {
      const c = consumers[i]!;
      if (c.cutting || c.replay !== null) continue;
      if (c.passAll && length <= c.limit - c.ring.size) {
        fullCopies++;
        c.framesOut += length / FRAME_SIZE;
        if (this.trace !== null) this.trace.writing(i);
        if (c.ring.size === 0 && !c.waitingDrain && !c.holding) {
          if (multi === null) this.writeDirect(c, batch);
          else direct[directs++] = c;
          continue;
        }
        c.ring.push(batch.src, batch.srcStart, length);
      } else {
        if (this.trace !== null) this.trace.writing(i);
        batch.own(); // word access for the per-frame path
        this.queueFiltered(c, batch);
      }
      if (!c.waitingDrain && !c.holding) this.flush(c);
    }
    if (directs === 1) this.writeDirect(direct[0]!, batch);
    else if (directs > 1) this.writeDirects(multi!, directs, batch);
    if (this.trace !== null) this.trace.done();
    if (this.replaying > 0) {
      for (let i = 0; i < consumers.length; i++) {
        const c = consumers[i]!;
        if (c.replay !== null && !c.waitingDrain) this.pumpReplay(c);
      }
    }
    if (fullCopies > 0) {
      const out = this.metrics.framesOut;
      for (const index of VALID_INDEXES) {
        const n = batch.counts[index]!;
        if (n > 0) out[index]!.inc(n * fullCopies);
      }
    }
  }

  /** A consumer that is keeping up: write straight from the batch; only what the socket refuses is queued. */
  private writeDirect(c: ConsumerConn, batch: FrameBatch): void {
    this.written(c, batch, c.socket.write(batch.src, batch.srcStart, batch.length));
  }

  /** The direct writes of `count` consumers in one io_submit (per `capacity` of them). */
  private writeDirects(multi: MultiWriter, count: number, batch: FrameBatch): void {
    const direct = this.direct;
    const sent = this.sent;
    let queued = 0;
    for (let k = 0; k < count; k++) {
      const c = direct[k]!;
      direct[k] = NONE; // hold no consumer past this batch
      const fd = (c.socket as { fd?: number }).fd;
      // A closed socket's fd is -1: never write to a number the kernel may have given to another file.
      if (typeof fd !== "number" || fd < 0) {
        this.writeDirect(c, batch);
        continue;
      }
      sent[queued++] = c;
      multi.add(fd, batch.src, batch.srcStart, batch.length);
      if (queued === multi.capacity) {
        this.submit(multi, queued, batch);
        queued = 0;
      }
    }
    if (queued > 0) this.submit(multi, queued, batch);
  }

  private submit(multi: MultiWriter, queued: number, batch: FrameBatch): void {
    const sent = this.sent;
    const done = multi.submit();
    for (let k = 0; k < queued; k++) {
      const c = sent[k]!;
      sent[k] = NONE;
      const n = k < done ? multi.result(k) : Number.NaN;
      // Not attempted (refused at submission), or no completion seen (NaN): not written, so through Bun's
      // socket, which knows its state.
      if (Number.isNaN(n)) this.writeDirect(c, batch);
      else if (this.written(c, batch, n)) this.flush(c);
    }
  }

  /**
   * After a direct write of `n` bytes (negative: closing): queue what the socket did not take; true when
   * something was queued. A write Bun did not make (multiwrite) must then be flushed through Bun's socket
   * once, so that Bun watches it for writability and calls drain.
   */
  private written(c: ConsumerConn, batch: FrameBatch, n: number): boolean {
    if (n < 0 || n === batch.length) return false; // closing (close handler cleans up) or all taken
    if (batch.length >= RAISE_SNDBUF_AT) this.raiseBuffer(c);
    c.ring.pushRemainder(batch.src, batch.srcStart + n, batch.length - n, n % FRAME_SIZE);
    c.waitingDrain = true;
    return true;
  }

  /** Frame by frame: filter check (two table loads), 12-word copy, and the queue bound. */
  private queueFiltered(c: ConsumerConn, batch: FrameBatch): void {
    const bytes = batch.bytes;
    const ring = c.ring;
    const out = this.metrics.framesOut;
    let dropped = 0;
    let firstDropped = -1;
    for (let off = 0; off < batch.length; off += FRAME_SIZE) {
      if (!passes(c.filter, bytes, off)) continue;
      if (dropped === 0 && ring.size + FRAME_SIZE <= c.limit) {
        ring.pushFrameWords(batch.words, off >>> 2);
        out[byteKindIndex(bytes, off)]!.inc();
        c.framesOut++;
      } else {
        if (dropped === 0) firstDropped = off;
        dropped++;
      }
    }
    if (dropped > 0)
      this.cut(c, dropped, byteExchange(bytes, firstDropped) as Exchange, byteSeq(bytes, firstDropped));
  }

  private cut(c: ConsumerConn, dropped: number, exchange: Exchange, firstSeq: number): void {
    c.cutting = true;
    c.dropped += dropped;
    const ring = c.ring;
    writeStatusFrame(ring.view, ring.claimFrame(), Status.SlowConsumer, exchange, firstSeq, dropped, 0);
    this.metrics.slowDisconnects.inc();
    this.metrics.droppedFrames.inc(dropped);
    this.log.warn("slow consumer cut: queue full", {
      consumer: c.id,
      name: c.name,
      dropped,
      queuedBytes: ring.size,
      graceMs: this.slowGraceMs,
    });
    // The SlowConsumer frame is sent after what is already queued; give the consumer a bounded time to read it.
    c.graceTimer = setTimeout(() => {
      c.graceTimer = null;
      this.log.warn("slow consumer did not drain within grace; closing", { consumer: c.id, name: c.name });
      c.socket.terminate();
    }, this.slowGraceMs);
  }

  private raiseBuffer(c: ConsumerConn): void {
    if (c.bufferRaised || this.socketBufferBytes <= 0) return;
    c.bufferRaised = true;
    setSendBuffer(c.socket, this.socketBufferBytes);
  }

  flush(c: ConsumerConn): void {
    if (c.holding) return;
    const done = c.ring.writeTo(c.socket);
    c.waitingDrain = done === false;
    if (done === false && c.ring.size >= RAISE_SNDBUF_AT) this.raiseBuffer(c);
    if (done === true && c.cutting) c.socket.end();
  }

  onDrain(c: ConsumerConn): void {
    c.waitingDrain = false;
    this.flush(c);
    if (c.replay !== null && !c.waitingDrain) this.pumpReplay(c);
  }

  /** End the hold: write what was queued (first filter line, or HOLD_MS without one). */
  private release(c: ConsumerConn): void {
    if (c.holdTimer) clearTimeout(c.holdTimer);
    c.holdTimer = null;
    if (!c.holding) return;
    c.holding = false;
    if (!c.waitingDrain) this.flush(c);
  }

  /**
   * A resume line: drop what was queued during the hold (the journal has it), queue the resume-gap frames,
   * and read the journal from the asked position; live batches skip this consumer until it catches up.
   */
  private startReplay(c: ConsumerConn, line: FilterLine): void {
    const journal = this.journal;
    if (journal === null) {
      this.log.warn("resume asked but the journal is off; starting live", { consumer: c.id, name: c.name });
      return;
    }
    if (!c.holding) {
      this.log.warn("resume asked after frames were sent; only the first line may resume", {
        consumer: c.id,
      });
      return;
    }
    c.ring.clear();
    c.replay = new ReplayCursor(journal, line);
    this.replaying++;
    for (const g of c.replay.gaps) {
      // seq = the last lost one, so a client's "last seq + 1" lands on the oldest frame held.
      writeStatusFrame(
        c.ring.view,
        c.ring.claimFrame(),
        Status.Gap,
        g.exchange as Exchange,
        g.first + g.count - 1,
        g.first,
        g.count,
      );
      this.metrics.resumeGapFrames.inc();
    }
    this.metrics.resumes.inc();
    this.log.info("consumer resumes from the journal", {
      consumer: c.id,
      name: c.name,
      from: line.from,
      fromTime: line.fromTime,
      startPos: c.replay.pos,
      livePos: c.replay.livePos,
      gaps: c.replay.gaps,
    });
  }

  /** Copy journal frames the consumer wants into its ring while there is room; go live at the journal head. */
  pumpReplay(c: ConsumerConn): void {
    const r = c.replay;
    const journal = this.journal;
    if (r === null || journal === null || c.cutting) return;
    const ring = c.ring;
    const scratch = this.scratch;
    let delivered = 0;
    for (let step = 0; step < REPLAY_STEPS; step++) {
      if (r.pos >= journal.head) {
        if (!r.ready()) break; // a position still ahead: read new frames from the journal as they come
        c.replay = null; // caught up: the next live batch is the next frame (one event loop: no gap, no dup)
        this.replaying--;
        this.log.info("consumer caught up; live", {
          consumer: c.id,
          name: c.name,
          replayed: r.frames + delivered,
        });
        break;
      }
      const room = Math.floor((c.limit - ring.size) / FRAME_SIZE);
      if (room < 64) break; // wait for drain
      if (r.pos < journal.oldestPos) r.pos = journal.oldestPos; // deleted under it (retention): counted below
      const n = journal.read(r.pos, scratch, Math.min(REPLAY_CHUNK, room));
      if (n === 0) break;
      const view = this.scratchView;
      for (let i = 0, off = 0; i < n; i++, off += FRAME_SIZE) {
        const ex = byteExchange(scratch, off);
        if (!r.wants(ex, byteSeq(scratch, off), tsRecvHi(view, off), tsRecvLo(view, off), r.pos + i))
          continue;
        if (!passes(c.filter, scratch, off)) continue;
        ring.pushFrameWords(this.scratchWords, off >>> 2);
        delivered++;
      }
      r.pos += n;
    }
    r.frames += delivered;
    c.framesOut += delivered;
    this.metrics.replayedFrames.inc(delivered);
    if (!c.waitingDrain) this.flush(c);
    if (c.replay !== null && c.replay.pos < journal.head && !c.waitingDrain && !c.replayScheduled) {
      c.replayScheduled = true;
      setImmediate(() => {
        c.replayScheduled = false;
        this.pumpReplay(c);
      });
    }
  }

  /** Filter lines from the consumer: one JSON object per "\n"; a bad line is counted and logged, old filter kept. */
  onData(c: ConsumerConn, data: Uint8Array): void {
    let text = c.lineBuf + c.decoder.decode(data, { stream: true });
    let nl = text.indexOf("\n");
    while (nl >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (c.discarding) c.discarding = false;
      else if (line.trim() !== "") this.applyLine(c, line);
      nl = text.indexOf("\n");
    }
    if (text.length > MAX_FILTER_LINE) {
      this.filterError(c, new FilterError(`filter line longer than ${MAX_FILTER_LINE} bytes; discarded`));
      c.discarding = true;
      text = "";
    }
    c.lineBuf = c.discarding ? "" : text;
  }

  private applyLine(c: ConsumerConn, line: string): void {
    try {
      const parsed = parseFilterLine(line);
      const compiled = compileFilter(parsed);
      c.filter = compiled;
      c.passAll = compiled === PASS_ALL || isPassAll(compiled);
      if (parsed.name !== undefined) c.name = parsed.name;
      this.log.info("consumer filter set", { consumer: c.id, name: c.name, filter: parsed });
      if (c.linesApplied++ === 0 && (parsed.from !== undefined || parsed.fromTime !== undefined)) {
        this.startReplay(c, parsed);
      }
      if (c.replay !== null) {
        c.holding = false;
        this.pumpReplay(c);
      } else {
        this.release(c);
      }
    } catch (error) {
      if (!(error instanceof FilterError)) throw error;
      this.filterError(c, error);
    }
  }

  private filterError(c: ConsumerConn, error: FilterError): void {
    this.metrics.filterErrors.inc();
    this.log.limited("warn", `filter-${c.id}`, "invalid filter line; keeping the previous filter", {
      consumer: c.id,
      name: c.name,
      error: error.message,
    });
  }
}

function isPassAll(f: CompiledFilter): boolean {
  if (f.instruments !== null) return false;
  for (const index of VALID_INDEXES) if (f.kindExchange[index] === 0) return false;
  return true;
}
