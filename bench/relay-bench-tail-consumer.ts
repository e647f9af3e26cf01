// Consumer for bench/relay-bench-tail.ts, on the real client (relay/client.ts): per data frame
// [seq, latency ns (tsRecv → onFrame), arrival CLOCK_MONOTONIC ns] into <out.bin>, so each frame can be joined
// with the producer's record and a `perf sched` timeline (perf record -k CLOCK_MONOTONIC). At the end, one JSON
// line: counts, seq errors, and the CPU each of its threads ran and waited (runnable, not running) after the
// warm-up, by thread name, from /proc/self/task/<tid>/schedstat.
//   relay-bench-tail-consumer.ts <path> <name> <frames> <warmup> <out.bin>
import { writeFileSync } from "node:fs";
import { connectRelayConsumer } from "../relay/client.ts";
import { hopLatencyNs } from "../relay/hop.ts";
import { frameKind, frameSeq, Kind } from "../schema/frame.ts";
import { monoNs, type ThreadTimes, threadTimes, threadTimesSince } from "./relay-bench-tail-clock.ts";

const [path, name, framesArg, warmupArg, outFile] = process.argv.slice(2);
const total = Number(framesArg);
const warmup = Number(warmupArg);
if (!path || !name || !(total > 0) || !(warmup >= 0) || !outFile)
  throw new Error("usage: relay-bench-tail-consumer.ts <path> <name> <frames> <warmup> <out.bin>");
const rec = new Float64Array(total * 3);
let count = 0;
let bad = 0;
let expect = 0;
let atWarm: ThreadTimes = threadTimes();

connectRelayConsumer({
  path,
  name,
  onConnect: () => console.log(JSON.stringify({ ready: true })),
  onDisconnect: (reason) => {
    console.log(JSON.stringify({ name, count, bad, error: reason }));
    process.exit(1);
  },
  onFrame(view, offset) {
    if (frameKind(view, offset) === Kind.Status) return; // the relay's Disconnected at the end
    const at = count * 3;
    rec[at + 1] = hopLatencyNs(view, offset);
    rec[at + 2] = monoNs();
    const seq = frameSeq(view, offset);
    rec[at] = seq;
    if (seq !== expect) bad++;
    expect = seq + 1;
    if (++count === warmup) atWarm = threadTimes();
    if (count === total) {
      const threads = threadTimesSince(atWarm);
      writeFileSync(outFile, new Uint8Array(rec.buffer));
      console.log(JSON.stringify({ name, tLast: 1, count, bad, threads }));
      process.exit(0);
    }
  },
});
