// Paced producer for bench/relay-bench-tail.ts: the loop of relay-bench-producer.ts `paced` (one frame per write
// at <rate>/s on absolute CLOCK_MONOTONIC sleeps, like uds.c prodpaced, tsRecv stamped just before the write),
// recording per frame [scheduled, before the stamp, after the write] in CLOCK_MONOTONIC ns into <out.bin>. A
// write the relay does not take whole is finished by retrying (the frame keeps its stamp, so the wait shows).
//   relay-bench-tail-producer.ts <path> <frames> <rate> <warmup> <out.bin>
import { writeFileSync } from "node:fs";
import { stampRecv } from "../relay/hop.ts";
import { frames } from "../relay/testing.ts";
import { Kind, writeSeq } from "../schema/frame.ts";
import {
  monoNs,
  sleepUntilNs,
  type ThreadTimes,
  threadTimes,
  threadTimesSince,
} from "./relay-bench-tail-clock.ts";

const [path, framesArg, rateArg, warmupArg, outFile] = process.argv.slice(2);
const total = Number(framesArg);
const rate = Number(rateArg);
const warmup = Number(warmupArg);
if (!path || !(total > 0) || !(rate > 0) || !(warmup >= 0) || !outFile)
  throw new Error("usage: relay-bench-tail-producer.ts <path> <frames> <rate> <warmup> <out.bin>");
const bytes = frames([{ kind: Kind.Trade, instrument: 1, price: 100, size: 1 }]);
const view = new DataView(bytes.buffer);
const socket = await Bun.connect({ unix: path, socket: { data() {} } });
const rec = new Float64Array(total * 3);
const period = Math.round(1e9 / rate);
let next = monoNs();
let atWarm: ThreadTimes = threadTimes();
for (let seq = 0; seq < total; seq++) {
  next += period;
  sleepUntilNs(next);
  if (seq === warmup) atWarm = threadTimes();
  writeSeq(view, 0, seq);
  const before = monoNs();
  stampRecv(view, 0);
  let n = socket.write(bytes);
  while (n < bytes.byteLength) {
    const m = socket.write(bytes.subarray(n));
    if (m < 0) throw new Error("relay closed the producer");
    n += m;
  }
  rec[seq * 3] = next;
  rec[seq * 3 + 1] = before;
  rec[seq * 3 + 2] = monoNs();
}
writeFileSync(outFile, new Uint8Array(rec.buffer));
console.log(JSON.stringify({ t0: 1, threads: threadTimesSince(atWarm) }));
socket.end();
process.exit(0);
