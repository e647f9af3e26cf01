// Diagnostic for bench/link-latency.ts: a NATS core subscriber on the link's subject, in a process of its own,
// timing each frame of each message the exporter published (now − tsRecv, CLOCK_REALTIME like the relay
// consumers), so the added latency splits into relay A → exporter → NATS and NATS → importer → relay B.
//   bun bench/link-hop-sub.ts <nats url> <subject> <skip frames> <frames> <out.bin>
// Prints {"ready":true} once subscribed, then one JSON line when `frames` frames after `skip` have come.
import { writeFileSync } from "node:fs";
import { connect } from "nats";
import { hopLatencyNs } from "../relay/hop.ts";
import { FRAME_SIZE, frameSeq } from "../schema/frame.ts";

const [url, subject, skipArg, framesArg, out] = process.argv.slice(2);
const skip = Number(skipArg);
const total = Number(framesArg);
const lat = new Float64Array(total);
let got = 0;
const nc = await connect({ servers: url });
nc.subscribe(subject!, {
  callback: (_err, m) => {
    const d = m.data;
    const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    for (let off = 0; off < d.byteLength; off += FRAME_SIZE) {
      const i = frameSeq(view, off) - skip;
      if (i < 0 || i >= total) continue;
      lat[i] = hopLatencyNs(view, off);
      if (++got === total) {
        writeFileSync(out!, new Uint8Array(lat.buffer));
        console.log(JSON.stringify({ done: true, got }));
        process.exit(0);
      }
    }
  },
});
await nc.flush();
console.log(JSON.stringify({ ready: true }));
