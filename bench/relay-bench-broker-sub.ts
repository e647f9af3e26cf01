// Subscriber process for the Redis pub/sub and NATS comparison in bench/relay-bench.ts: subscribes to "md",
// counts 48-byte messages from uds.c `pprod` (seq = u64 at byte 0) and checks their order.
//   redis|nats <url> <name> <messages> <idle-ms>
// Prints {"ready":true} once subscribed, then one JSON result line when all arrived or none came for idle-ms.

import Redis from "ioredis";
import { connect } from "nats";
import { hostNowNs as nowNs } from "../relay/hop.ts";

const [kind, url, name, totalArg, idleArg] = process.argv.slice(2);
const total = Number(totalArg);
const idleMs = Number(idleArg ?? 3000);
let count = 0;
let bad = 0;
let expect = 0;
let tFirst = 0;
let tLast = 0;

function onMessage(buf: Uint8Array): void {
  if (count === 0) tFirst = nowNs();
  const seq = buf[0]! | (buf[1]! << 8) | (buf[2]! << 16) | (buf[3]! << 24);
  if (buf.byteLength !== 48 || seq >>> 0 !== expect) bad++;
  expect = (seq >>> 0) + 1;
  tLast = nowNs();
  if (++count === total) done();
}

function done(): void {
  console.log(JSON.stringify({ name, count, bad, tFirst, tLast }));
  process.exit(0);
}

// Stop when the stream has gone quiet (a broker that dropped us, or lost messages).
let lastCount = -1;
setInterval(() => {
  if (count === lastCount && count > 0) done();
  lastCount = count;
}, idleMs).unref();
setTimeout(done, 60_000).unref();

if (kind === "redis") {
  const sub = new Redis(url!, { lazyConnect: true, enableOfflineQueue: false });
  await sub.connect();
  sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => onMessage(message));
  sub.on("end", () => console.error(`${name}: redis connection ended`));
  await sub.subscribe("md");
} else if (kind === "nats") {
  const nc = await connect({ servers: url!, name });
  const sub = nc.subscribe("md");
  await nc.flush();
  console.log(JSON.stringify({ ready: true }));
  for await (const msg of sub) onMessage(msg.data);
} else {
  throw new Error(`unknown broker ${kind}`);
}
if (kind === "redis") console.log(JSON.stringify({ ready: true }));
