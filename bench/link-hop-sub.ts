// Diagnostic for bench/link-latency.ts: a subscriber on the link's subject, in a process of its own, timing each
// frame of each message (now − tsRecv, CLOCK_REALTIME like the relay consumers), so the added latency splits at
// the NATS server. Mode `core`: a NATS core subscription (the server hands a message on as it takes it from the
// exporter, before JetStream stores it); mode `js`: a JetStream pull consumer on the stream consumed like the
// importer's (what storing and delivering from the stream adds).
//   bun bench/link-hop-sub.ts core|js <nats url> <subject> <stream> <skip frames> <frames> <out.bin>
// Prints {"ready":true} once subscribed, then one JSON line when `frames` frames after `skip` have come.
import { writeFileSync } from "node:fs";
import { AckPolicy, connect, DeliverPolicy } from "nats";
import { hopLatencyNs } from "../relay/hop.ts";
import { FRAME_SIZE, frameSeq } from "../schema/frame.ts";

const [mode, url, subject, stream, skipArg, framesArg, out] = process.argv.slice(2);
const skip = Number(skipArg);
const total = Number(framesArg);
const lat = new Float64Array(total);
let got = 0;

function onData(d: Uint8Array): void {
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  for (let off = 0; off < d.byteLength; off += FRAME_SIZE) {
    const i = frameSeq(view, off) - skip;
    if (i < 0 || i >= total || lat[i] !== 0) continue;
    lat[i] = hopLatencyNs(view, off);
    if (++got === total) {
      writeFileSync(out!, new Uint8Array(lat.buffer));
      console.log(JSON.stringify({ done: true, got }));
      process.exit(0);
    }
  }
}

const nc = await connect({ servers: url, noAsyncTraces: true });
if (mode === "js") {
  // A durable-less explicit-ack pull consumer consumed as the importer does (nats-server 2.9 has no
  // filter_subjects, which nats.js's ordered consumer asks for).
  const jsm = await nc.jetstreamManager();
  const info = await jsm.consumers.add(stream!, {
    ack_policy: AckPolicy.Explicit,
    filter_subject: subject!,
    deliver_policy: DeliverPolicy.All,
    inactive_threshold: 60_000_000_000,
  });
  const consumer = await nc.jetstream().consumers.get(stream!, info.name);
  await consumer.consume({
    max_messages: 256,
    callback: (m) => {
      m.ack();
      onData(m.data);
    },
  });
} else nc.subscribe(subject!, { callback: (_err, m) => onData(m.data) });
await nc.flush();
console.log(JSON.stringify({ ready: true }));
