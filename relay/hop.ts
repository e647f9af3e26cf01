// Hop latency against a frame's tsRecv (the collector's host-clock receive stamp, CLOCK_REALTIME), so the
// relay and its consumers can measure a hop across processes on one host. The frame side lives in
// schema/stamp.ts; these names stay for the relay's users (benchmarks, tools).
import { nowNs } from "../schema/clock.ts";

export { hopLatencyNs, stampTsRecv as stampRecv } from "../schema/stamp.ts";

/** Host clock as ns since the epoch in a double (256 ns granularity), for benchmark start/end times. */
export const hostNowNs = nowNs;
