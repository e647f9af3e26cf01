// Hop-by-hop trace (TAPEWIRE_RELAY_TRACE=<file>, off by default): per ingest read, the id and count of its frames
// and the host-clock times at which the read arrived, was journaled, was about to be written to each consumer
// (the write's own syscall, which wakes that consumer, belongs to the consumer's hop) and was done, in a
// preallocated Float64Array written to <file> when the relay stops. bench/relay-bench-hops.ts joins it by frame
// id with the producer's and consumers' own records (docs: BENCHMARKS.md, "Hop by hop"). Times are ns since
// TRACE_BASE_S (TAPEWIRE_TRACE_BASE_S, whole seconds of CLOCK_REALTIME), exact in a double; every process of
// one run is given the same base.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { writeFileSync } from "node:fs";
import { setTimeNs } from "../schema/clock.ts";
import { FrameOffset, frameId } from "../schema/frame.ts";

const CLOCK_REALTIME = 0;
const TWO32 = 4294967296;
const libc = dlopen("libc.so.6", {
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
});
// Its own ArrayBuffer so the GC never moves what FFI points at.
const ts = new Int32Array(new ArrayBuffer(16));
const tsPtr = ptr(ts);

/** The base of one run's trace times: the env value, or now (a single process). */
export const TRACE_BASE_S = Number(process.env.TAPEWIRE_TRACE_BASE_S ?? Math.floor(Date.now() / 1000) - 10);
const base = new DataView(new ArrayBuffer(8));
setTimeNs(base, 0, TRACE_BASE_S, 0);
const BASE_LO = base.getUint32(0, true);
const BASE_HI = base.getInt32(4, true);

/** Now, in ns since TRACE_BASE_S: exact (a double holds ~104 days of ns). */
export function traceNow(): number {
  libc.symbols.clock_gettime(CLOCK_REALTIME, tsPtr);
  return (ts[1]! * TWO32 + (ts[0]! >>> 0) - TRACE_BASE_S) * 1e9 + ts[2]!;
}

/** A frame's tsRecv (ns since the epoch) in ns since TRACE_BASE_S, exactly. */
export function traceTsRecv(view: DataView, offset: number): number {
  const at = offset + FrameOffset.tsRecv;
  return (view.getInt32(at + 4, true) - BASE_HI) * TWO32 + (view.getUint32(at, true) - BASE_LO);
}

/** Fields per read record: first id, frames, tRead, tJournaled, one time per consumer slot, tDone. */
export const TRACE_CONSUMERS = 4;
export const TRACE_FIELDS = 5 + TRACE_CONSUMERS;
export const TRACE_DONE = 4 + TRACE_CONSUMERS;

export class HopTrace {
  private readonly rec: Float64Array;
  private n = 0;
  private readonly capacity: number;
  private base = 0;
  /** Reads not recorded because the trace was full. */
  overflow = 0;

  constructor(
    private readonly file: string,
    capacityReads = 2_000_000,
  ) {
    this.capacity = capacityReads;
    this.rec = new Float64Array(capacityReads * TRACE_FIELDS);
  }

  /** A read arrived: `bytes[start, start + length)` are its frames (before ingest rewrites anything but seq). */
  read(view: DataView, start: number, frames: number): void {
    if (this.n === this.capacity) {
      this.overflow++;
      this.base = -1;
      return;
    }
    const t = traceNow();
    this.base = this.n * TRACE_FIELDS;
    this.rec[this.base] = frames > 0 ? frameId(view, start) : -1;
    this.rec[this.base + 1] = frames;
    this.rec[this.base + 2] = t;
    this.n++;
  }

  journaled(): void {
    if (this.base >= 0) this.rec[this.base + 3] = traceNow();
  }

  /** The read's frames are about to be written (or queued) to consumer slot `i`. */
  writing(i: number): void {
    if (this.base >= 0 && i < TRACE_CONSUMERS) this.rec[this.base + 4 + i] = traceNow();
  }

  /** Every consumer had the read's frames. */
  done(): void {
    if (this.base >= 0) this.rec[this.base + TRACE_DONE] = traceNow();
  }

  save(): void {
    writeFileSync(this.file, new Uint8Array(this.rec.buffer, 0, this.n * TRACE_FIELDS * 8));
  }
}
