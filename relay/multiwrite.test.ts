// The fan-out's direct writes in one io_submit (relay/multiwrite.ts): every socket gets its own bytes from one
// call, a full socket reports what it took, and through the relay a consumer whose writes came back short
// (stopped for a while, under its queue bound) still gets every frame once it reads again: the rest goes
// through Bun's socket, which then calls drain.

import { ptr } from "bun:ffi";
import { afterEach, expect, test } from "bun:test";
import { closeSync, constants, fsyncSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { FRAME_SIZE } from "../schema/frame.ts";
import { connectRelayProducer } from "./index.ts";
import { MultiWriter } from "./multiwrite.ts";
import {
  collect,
  frames,
  spawnConsumerFixture,
  startRelayProcess,
  waitFor,
  waitForFilters,
} from "./testing.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function socketPairs(n: number) {
  const path = join(tmpdir(), `multiwrite-${process.pid}-${Date.now()}.sock`);
  const servers: Socket<undefined>[] = [];
  const got: number[][] = Array.from({ length: n }, () => []);
  const listener = Bun.listen({ unix: path, socket: { open: (s) => void servers.push(s), data() {} } });
  const clients: Socket<undefined>[] = [];
  for (let i = 0; i < n; i++) {
    clients.push(await Bun.connect({ unix: path, socket: { data: (_s, d) => void got[i]!.push(...d) } }));
  }
  await waitFor(() => servers.length === n, "accepted");
  cleanups.push(() => {
    for (const c of clients) c.end();
    listener.stop(true);
    rmSync(path, { force: true });
  });
  return { servers, got };
}

const fd = (s: Socket<undefined>) => (s as unknown as { fd: number }).fd;

test.skipIf(process.platform !== "linux")("one io_submit writes each socket its own bytes", async () => {
  const w = MultiWriter.create();
  expect(w).not.toBeNull();
  cleanups.push(() => w!.close());
  const { servers, got } = await socketPairs(3);
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0; i < 3; i++) w!.add(fd(servers[i]!), bytes, 10 * i, 5);
  expect(w!.submit()).toBe(3);
  expect(w!.submits).toBe(1);
  expect([0, 1, 2].map((i) => w!.result(i))).toEqual([5, 5, 5]);
  await waitFor(() => got.every((g) => g.length === 5), "bytes");
  expect(got).toEqual([
    [0, 1, 2, 3, 4],
    [10, 11, 12, 13, 14],
    [20, 21, 22, 23, 24],
  ]);
  // A socket whose buffer is full takes part of a write, then nothing (never blocks, never an error).
  const big = new Uint8Array(8 << 20);
  w!.add(fd(servers[0]!), big, 0, big.byteLength);
  w!.submit();
  expect(w!.result(0)).toBeGreaterThan(0);
  expect(w!.result(0)).toBeLessThan(big.byteLength);
});

test.skipIf(process.platform !== "linux")(
  "a write whose completion is not in the ring after submit reads NaN, never an earlier submit's result",
  async () => {
    const w = MultiWriter.create();
    expect(w).not.toBeNull();
    cleanups.push(() => w!.close());
    const { servers } = await socketPairs(1);
    // An O_DIRECT file write completes when the disk does, after io_submit returns (unlike a socket's): the
    // case of a completion missing at reap time. Aligned buffer and length, file offset 0.
    const path = join(tmpdir(), `multiwrite-direct-${process.pid}-${Date.now()}`);
    const file = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT);
    cleanups.push(() => {
      closeSync(file);
      rmSync(path, { force: true });
    });
    const bytes = new Uint8Array(4 * 4096);
    const aligned = (4096 - (ptr(bytes) % 4096)) % 4096;
    // Blocks allocated up front, by a direct write (no page cache): RWF_NOWAIT refuses (EAGAIN) a direct
    // write that must allocate blocks or drop cached pages.
    writeSync(file, bytes.subarray(aligned, aligned + 8192));
    fsyncSync(file);
    // Index 0 of one submit takes 5 bytes of a socket write...
    w!.add(fd(servers[0]!), bytes, 0, 5);
    expect(w!.submit()).toBe(1);
    expect(w!.result(0)).toBe(5);
    // ...and index 0 of the next is the file write: done or not seen yet, never the socket's 5 bytes.
    w!.add(file, bytes, aligned, 4096);
    expect(w!.submit()).toBe(1);
    const first = w!.result(0);
    expect(Number.isNaN(first) || first === 4096).toBe(true);
    if (Number.isNaN(first)) await waitFor(() => w!.unreaped > 0, "the late completion");
    // A late completion belongs to its own submit: the next submit's index 0 is not given its 4096 bytes.
    w!.add(file, bytes, aligned, 8192);
    expect(w!.submit()).toBe(1);
    const second = w!.result(0);
    expect(Number.isNaN(second) || second === 8192).toBe(true);
    // Here (ext4 on virtio) neither completion is in the ring when submit returns: both read NaN, and without
    // the guard the first read 5 and the second 4096.
  },
);

test("a consumer stopped under its queue bound gets every frame once it reads again, in order, not cut", async () => {
  const relay = await startRelayProcess({ env: { TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES: String(64 << 20) } });
  cleanups.push(() => relay[Symbol.asyncDispose]());
  const procs = ["a", "b", "stopped"].map((name) =>
    spawnConsumerFixture<{ event: string; data: number; discontinuities: number }>(
      relay.outPath,
      name,
      cleanups,
    ),
  );
  await waitForFilters(relay, ["a", "b", "stopped"]);
  procs[2]!.proc.kill("SIGSTOP");
  // 100k frames (4.8 MB: beyond a socket buffer, well within the queue), in small writes so that most
  // ingest reads are small and every consumer is written directly, in one submit.
  const total = 102_400;
  const producer = await connectRelayProducer({ path: relay.inPath, bufferBytes: 1 << 20 });
  const batch = frames(Array.from({ length: 64 }, () => ({})));
  const view = new DataView(batch.buffer);
  for (let seq = 0; seq < total; seq += 64) {
    for (let j = 0; j < 64; j++) view.setUint32(j * FRAME_SIZE + 4, seq + j, true);
    while (!producer.send(batch)) await producer.drained();
    if (seq % 4096 === 0) await Bun.sleep(1);
  }
  await producer.close();
  // The two running consumers have seen the producer's Disconnected status, so the relay has taken in every
  // frame and holds the stopped consumer's share in its queue before that consumer reads again.
  for (const p of procs.slice(0, 2))
    await waitFor(() => p.reports.some((r) => r.event === "summary"), "summary", 20_000);
  procs[2]!.proc.kill("SIGCONT");
  for (const p of procs) {
    await waitFor(() => p.reports.some((r) => r.event === "summary"), "summary", 20_000);
    const done = p.reports.find((r) => r.event === "summary")!;
    expect(done.data).toBe(total);
    expect(done.discontinuities).toBe(0);
    expect(p.reports.filter((r) => r.event === "closed")).toEqual([]);
  }
  expect(await relay.metric("tapewire_relay_slow_consumer_disconnects_total")).toBe(0);
}, 30_000);

test.each([
  ["true", true],
  ["false", false],
])(
  "TAPEWIRE_RELAY_MULTIWRITE=%s: every consumer gets every frame, in one io_submit a read or one send each",
  async (setting, on) => {
    const relay = await startRelayProcess({ env: { TAPEWIRE_RELAY_MULTIWRITE: setting } });
    cleanups.push(() => relay[Symbol.asyncDispose]());
    const aio = on && process.platform === "linux";
    expect(relay.logs.find((l) => l.msg === "relay listening")?.multiwrite).toBe(aio);
    const names = ["a", "b", "c"];
    const cons = names.map((name) => collect(relay.outPath, { name }));
    cleanups.push(() => {
      for (const c of cons) c.consumer.close();
    });
    await waitForFilters(relay, names);
    // One frame a write, each after every consumer has the one before: every read is written straight to all
    // three (nothing queued), so each is one io_submit with the setting on and three sends with it off.
    const producer = await connectRelayProducer({ path: relay.inPath });
    cleanups.push(() => producer.close());
    const total = 50;
    for (let i = 0; i < total; i++) {
      producer.send(frames([{ seq: i + 1, price: 1 + i }]));
      await waitFor(() => cons.every((c) => c.frames.length === i + 1), `frame ${i + 1} at every consumer`);
    }
    for (const c of cons)
      expect(c.frames.map((f) => f.price)).toEqual(Array.from({ length: total }, (_, i) => 1 + i));
    const submits = await relay.metric("tapewire_relay_multiwrite_submits");
    if (aio) expect(submits).toBeGreaterThanOrEqual(total);
    else expect(submits).toBe(0);
  },
);
