// Hop latency against a frame's tsRecv (the collector's host-clock receive stamp, CLOCK_REALTIME), so the
// relay and its consumers can measure a hop across processes on one host (schema/clock.ts).
import { elapsedSinceNs, nowNs, stampNow } from "../schema/clock.ts";

/** Byte offset of tsRecv in a frame (docs/wire-format.md; frame.ts keeps it private). */
const TS_RECV = 40;

/** Exact ns from the frame's tsRecv to now (both CLOCK_REALTIME on this host). */
export function hopLatencyNs(view: DataView, offset: number): number {
  return elapsedSinceNs(view, offset + TS_RECV);
}

/** Stamp now into the frame's tsRecv, exactly (producers in tests and benchmarks). */
export function stampRecv(view: DataView, offset: number): void {
  stampNow(view, offset + TS_RECV);
}

/** Host clock as ns since the epoch in a double (256 ns granularity), for benchmark start/end times. */
export const hostNowNs = nowNs;
