// Consumer process for bench/relay-bench.ts, built on the real client (relay/client.ts).
//   thru <path> <name> <frames>            : count data frames, check seqs; report first/last receive time
//   lat  <path> <name> <frames> <out.bin>  : per-frame hop latency (tsRecv → now) into a Float64Array file
// Prints {"ready":true} on connect, then one JSON result line, then exits.
import { writeFileSync } from "node:fs";
import { connectRelayConsumer } from "../relay/client.ts";
import { hopLatencyNs, hostNowNs as nowNs } from "../relay/hop.ts";
import { frameKind, frameSeq, Kind } from "../schema/frame.ts";

const [mode, path, name, framesArg, outFile] = process.argv.slice(2);
const total = Number(framesArg);
if (!path || !name || !(total > 0))
  throw new Error("usage: relay-bench-consumer.ts thru|lat <path> <name> <frames> [out]");

const latencies = mode === "lat" ? new Float64Array(total) : null;
let count = 0;
let bad = 0;
let expect = 0;
let tFirst = 0;

function finish(): void {
  const tLast = nowNs();
  if (latencies && outFile) writeFileSync(outFile, new Uint8Array(latencies.buffer));
  console.log(JSON.stringify({ name, count, bad, tFirst, tLast }));
  process.exit(0);
}

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
    if (latencies) latencies[count] = hopLatencyNs(view, offset);
    else if (count === 0) tFirst = nowNs();
    const seq = frameSeq(view, offset);
    if (seq !== expect) bad++;
    expect = seq + 1;
    if (++count === total) finish();
  },
});
