// Consumer process for bench/relay-bench.ts, built on the real client (relay/client.ts).
//   thru <path> <name> <frames>            : count data frames, check seqs; report first/last receive time
//   thruck <path> <name> <frames>          : as thru, plus the host-clock ns at every CK_EVERY-th frame in the
//                                            result (ck[i] = time frame (i + 1)·CK_EVERY arrived), from one
//                                            preallocated array (bench/relay-bench-paired.ts, overlap window)
//   lat  <path> <name> <frames> <out.bin>  : per-frame hop latency (tsRecv → now) into a Float64Array file
//   hop  <path> <name> <frames> <out.bin>  : per trade frame [id, tsRecv, now] in ns since TRACE_BASE_S
//                                            (relay/trace.ts), for bench/relay-bench-hops.ts
//   Add "spin" as a sixth argument to read in the client's spin mode (relay/README.md, "Spin mode").
// Prints {"ready":true} on connect, then one JSON result line, then exits.
import { writeFileSync } from "node:fs";
import { connectRelayConsumer } from "../relay/client.ts";
import { hopLatencyNs, hostNowNs as nowNs } from "../relay/hop.ts";
import { traceNow, traceTsRecv } from "../relay/trace.ts";
import { frameId, frameKind, frameSeq, Kind } from "../schema/frame.ts";

const [mode, path, name, framesArg, outFile, spinArg] = process.argv.slice(2);
const total = Number(framesArg);
if (!path || !name || !(total > 0))
  throw new Error("usage: relay-bench-consumer.ts thru|lat <path> <name> <frames> [out]");

const latencies = mode === "lat" ? new Float64Array(total) : null;
const hops = mode === "hop" ? new Float64Array(total * 3) : null;
const CK_EVERY = 16384;
const checkpoints = mode === "thruck" ? new Float64Array(Math.floor((total - 1) / CK_EVERY)) : null;
let count = 0;
let bad = 0;
let expect = 0;
let tFirst = 0;

const spin = spinArg === "spin";
let wall0 = 0;
let cpu0: NodeJS.CpuUsage | undefined;
function finish(): void {
  const tLast = nowNs();
  const cpu = process.cpuUsage(cpu0);
  // CPU share while connected (1 = one whole CPU): what spin mode costs.
  const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
  if (latencies && outFile) writeFileSync(outFile, new Uint8Array(latencies.buffer));
  if (hops && outFile) writeFileSync(outFile, new Uint8Array(hops.buffer));
  console.log(
    JSON.stringify({
      name,
      count,
      bad,
      tFirst,
      tLast,
      spin,
      cpuShare,
      cpuS: (cpu.user + cpu.system) / 1e6,
      ...(checkpoints ? { ckEvery: CK_EVERY, ck: Array.from(checkpoints) } : {}),
    }),
  );
  process.exit(0);
}

connectRelayConsumer({
  path,
  name,
  spin,
  onConnect: () => {
    wall0 = performance.now();
    cpu0 = process.cpuUsage();
    console.log(JSON.stringify({ ready: true }));
  },
  onDisconnect: (reason) => {
    console.log(JSON.stringify({ name, count, bad, error: reason }));
    process.exit(1);
  },
  onFrame(view, offset) {
    if (frameKind(view, offset) === Kind.Status) return; // the relay's Disconnected at the end
    if (latencies) latencies[count] = hopLatencyNs(view, offset);
    else if (hops) {
      const at = count * 3;
      hops[at + 2] = traceNow();
      hops[at] = frameId(view, offset);
      hops[at + 1] = traceTsRecv(view, offset);
    } else if (count === 0) tFirst = nowNs();
    const seq = frameSeq(view, offset);
    if (hops && count === 0) expect = seq; // after the collector's start frame
    if (seq !== expect) bad++;
    expect = seq + 1;
    if (++count === total) finish();
    else if (checkpoints !== null && count % CK_EVERY === 0) checkpoints[count / CK_EVERY - 1] = nowNs();
  },
});
