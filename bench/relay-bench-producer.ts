// Producer process for bench/relay-bench.ts.
//   max   <path> <frames> <batch> [go] : frames as fast as the relay takes them, `batch` frames per write; with
//                                   a go file (bench/relay-bench-paired.ts), connect, print {"connected":true},
//                                   wait for the file, then start at the host-clock ns it holds (sub-ms together)
//   paced <path> <frames> <rate>  : one frame per write at `rate`/s on absolute-time sleeps (like uds.c
//                                   prodpaced), tsRecv stamped with the host clock just before each write
//   paced2 <pathA,pathB> <frames> <rate> : the same paced stream to two relays at once (bench/relay-bench-paired.ts):
//                                   each tick writes the frame to both, back to back, A first on even seqs and B
//                                   first on odd ones, each copy stamped just before its own write
// Prints one JSON line {t0, t1} (host ns) when done.

import { dlopen, FFIType, ptr } from "bun:ffi";
import { existsSync, readFileSync } from "node:fs";
import type { Socket } from "bun";
import { hostNowNs as nowNs, stampRecv } from "../relay/hop.ts";
import { FrameRing } from "../relay/ring.ts";
import { frames } from "../relay/testing.ts";
import { FRAME_SIZE, Kind, writeSeq } from "../schema/frame.ts";

const [mode, path, framesArg, third, goFile] = process.argv.slice(2);
const total = Number(framesArg);
if (!path || !(total > 0))
  throw new Error("usage: relay-bench-producer.ts max|paced <path> <frames> <batch|rate>");

if (mode === "max") {
  // Straight from one reused batch buffer to the socket: the bench producer should cost as little as uds.c's.
  const batch = Number(third);
  const bytes = frames(
    Array.from({ length: batch }, (_, i) => ({
      kind: Kind.Trade,
      instrument: 1 + (i % 4),
      price: 100 + i,
      size: 1,
    })),
  );
  const view = new DataView(bytes.buffer);
  let seq = 0;
  let pending = bytes.byteLength; // bytes of the current batch already written
  let t0 = 0;
  const { promise: finished, resolve } = Promise.withResolvers<void>();
  const pump = (socket: Socket<undefined>): void => {
    for (;;) {
      if (pending < bytes.byteLength) {
        const n = socket.write(bytes, pending, bytes.byteLength - pending);
        if (n < 0) throw new Error("relay closed the producer");
        pending += n;
        if (pending < bytes.byteLength) return; // wait for drain
      }
      if (seq >= total) {
        resolve();
        return;
      }
      for (let j = 0; j < batch; j++) writeSeq(view, j * FRAME_SIZE, seq + j);
      seq += batch;
      pending = 0;
    }
  };
  const socket = await Bun.connect({ unix: path, socket: { data() {}, drain: (s) => pump(s) } });
  if (goFile) {
    console.log(JSON.stringify({ connected: true }));
    while (!existsSync(goFile)) await Bun.sleep(1);
    const startAt = Number(readFileSync(goFile, "utf8"));
    while (nowNs() < startAt) {} // the last few ms spun: both producers of a pair start together
  }
  t0 = nowNs();
  pump(socket);
  await finished;
  socket.end();
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ t0, t1: nowNs(), cpuS: (cpu.user + cpu.system) / 1e6 }));
} else if (mode === "paced" || mode === "paced2") {
  const rate = Number(third);
  const paths = mode === "paced2" ? path.split(",") : [path];
  if (paths.length !== (mode === "paced2" ? 2 : 1)) throw new Error("paced2 takes two paths: <pathA,pathB>");
  const libc = dlopen("libc.so.6", {
    clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    clock_nanosleep: { args: [FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  });
  const CLOCK_MONOTONIC = 1;
  const TIMER_ABSTIME = 1;
  // struct timespec in a buffer whose storage does not move; times as exact doubles (ns < 2^53), no BigInt.
  const ts = new Int32Array(new ArrayBuffer(16));
  const tsPtr = ptr(ts);
  const bytes = frames([{ kind: Kind.Trade, instrument: 1, price: 100, size: 1 }]);
  const view = new DataView(bytes.buffer);
  const sockets: Socket<undefined>[] = [];
  for (const p of paths) sockets.push(await Bun.connect({ unix: p, socket: { data() {} } }));
  const backlogs = sockets.map(() => new FrameRing(8 << 20));
  libc.symbols.clock_gettime(CLOCK_MONOTONIC, tsPtr);
  let next = (ts[0]! >>> 0) * 1e9 + ts[2]!;
  const period = Math.round(1e9 / rate);
  const t0 = nowNs();
  const send = (k: number): void => {
    const socket = sockets[k]!;
    const backlog = backlogs[k]!;
    stampRecv(view, 0);
    // A stalled relay fills the socket buffer (~280 one-frame writes): keep what it refused, in order, and
    // retry on the next tick; those frames carry their original stamp, so the wait shows in the latency.
    if (backlog.size === 0) {
      const n = socket.write(bytes);
      if (n < 0) throw new Error("relay closed the producer");
      if (n < FRAME_SIZE) backlog.pushRemainder(bytes, n, FRAME_SIZE - n, n);
    } else {
      if (backlog.free < FRAME_SIZE) throw new Error("relay stalled for longer than the producer's backlog");
      backlog.push(bytes, 0, FRAME_SIZE);
      if (backlog.writeTo(socket) === null) throw new Error("relay closed the producer");
    }
  };
  const two = sockets.length === 2;
  // A dedicated process: blocking sleeps on the event loop are fine, socket.write is a direct syscall.
  for (let seq = 0; seq < total; seq++) {
    next += period;
    const sec = Math.floor(next / 1e9);
    ts[0] = sec;
    ts[1] = 0;
    ts[2] = next - sec * 1e9;
    ts[3] = 0;
    libc.symbols.clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, tsPtr, null);
    writeSeq(view, 0, seq);
    // Two relays: the one written second waits for the first write (a few µs); alternating cancels that.
    const first = two ? seq & 1 : 0;
    send(first);
    if (two) send(1 - first);
  }
  for (let k = 0; k < sockets.length; k++) {
    while (backlogs[k]!.size > 0) {
      if (backlogs[k]!.writeTo(sockets[k]!) === null) throw new Error("relay closed the producer");
      await Bun.sleep(1);
    }
    sockets[k]!.end();
  }
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ t0, t1: nowNs(), cpuS: (cpu.user + cpu.system) / 1e6 }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.exit(0);
