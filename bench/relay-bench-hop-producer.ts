// Collector stand-in for bench/relay-bench-hops.ts: the real collector path on paced Binance trade messages.
//   <path> <messages> <rate> <out.bin>
// Each message is stamped (markReceived, the frame's tsRecv), parsed by the real Binance adapter into a frame,
// committed to the real RelaySink (collectors/core/sink.ts), whose microtask flush writes it to the relay. Per
// message it records [trade id, parsed, flushed] in ns since TRACE_BASE_S (relay/trace.ts) into <out.bin>.
// Pacing is uds.c prodpaced's: one wake every max(period, 100 µs) on an absolute clock_nanosleep, then every
// message that is due; the messages of one wake are flushed together, as one event-loop turn of a collector.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { writeFileSync } from "node:fs";
import { createCollectorContext } from "../collectors/core/context.ts";
import { RelaySink } from "../collectors/core/sink.ts";
import { VENUES } from "../collectors/venues.ts";
import { createLogger } from "../lib/log.ts";
import { traceNow } from "../relay/trace.ts";
import { Status } from "../schema/frame.ts";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../schema/instruments.ts";

const [path, messagesArg, rateArg, outFile] = process.argv.slice(2);
const total = Number(messagesArg);
const rate = Number(rateArg);
if (!path || !(total > 0) || !(rate > 0) || !outFile)
  throw new Error("usage: relay-bench-hop-producer.ts <path> <messages> <rate> <out.bin>");

const log = createLogger({}, () => {});
const registry = new InstrumentRegistry(DEFAULT_INSTRUMENTS);
const sink = new RelaySink({ path, capacityFrames: 1 << 16, log });
const ctx = createCollectorContext({
  exchange: "binance",
  registry,
  resyncsPerMinute: 60,
  log,
  output: sink,
});
const adapter = VENUES.binance({ registry, env: {} });
adapter.onOpen?.(ctx);
while (!sink.connected) await Bun.sleep(1);
ctx.emitter.status(Status.CollectorStart, 0, process.pid, Date.now());
await Promise.resolve();

// The message text is built before the receive stamp: only parsing and encoding are inside the hop.
const message = (i: number) =>
  `{"stream":"btcusdt@trade","data":{"e":"trade","E":${1_790_000_000_000_000 + i},"s":"BTCUSDT","t":${i + 1},"p":"${(60_000 + (i % 5000) / 10).toFixed(1)}0000000","q":"0.${String(10_000_000 + ((i * 7919) % 89_999_999)).padStart(8, "0")}","T":${1_790_000_000_000_000 + i},"m":${i & 1 ? "true" : "false"},"M":true}}`;

const libc = dlopen("libc.so.6", {
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  clock_nanosleep: { args: [FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
});
const CLOCK_MONOTONIC = 1;
const ts = new Int32Array(new ArrayBuffer(16));
const tsPtr = ptr(ts);
const mono = () => {
  libc.symbols.clock_gettime(CLOCK_MONOTONIC, tsPtr);
  return (ts[0]! >>> 0) * 1e9 + ts[2]!;
};
const rec = new Float64Array(total * 3);
const period = 1e9 / rate;
const tick = Math.max(period, 100_000);
const t0 = mono();
let next = t0;
let i = 0;
while (i < total) {
  next += tick;
  const sec = Math.floor(next / 1e9);
  ts[0] = sec;
  ts[1] = 0;
  ts[2] = next - sec * 1e9;
  ts[3] = 0;
  libc.symbols.clock_nanosleep(CLOCK_MONOTONIC, 1, tsPtr, null);
  const due = Math.min(total, Math.floor((mono() - t0) / period));
  const first = i;
  for (; i < due; i++) {
    const text = message(i);
    ctx.emitter.markReceived();
    adapter.onMessage(text, ctx);
    rec[i * 3] = i + 1;
    rec[i * 3 + 1] = traceNow();
  }
  await Promise.resolve(); // the sink's queued flush (one write for this wake's messages) runs here
  const flushed = traceNow();
  for (let k = first; k < i; k++) rec[k * 3 + 2] = flushed;
}
writeFileSync(outFile, new Uint8Array(rec.buffer));
await sink.close(2000);
console.log(JSON.stringify({ t0, sent: total, evicted: sink.evicted }));
process.exit(0);
