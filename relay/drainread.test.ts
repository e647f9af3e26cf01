// The relay's own reads of a busy collector socket (relay/drainread.ts): recv into a reused buffer returns the
// socket's bytes in order and 0 when it is empty; through the relay, a collector far ahead of it has part of
// its bytes read that way, and every frame still reaches the consumer once, in the collector's order.
import { afterEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { FRAME_SIZE, FrameOffset, frameId, frameKind, Kind } from "../schema/frame.ts";
import { DrainReader } from "./drainread.ts";
import { connectRelayConsumer, connectRelayProducer } from "./index.ts";
import { frames, startRelayProcess, waitFor, waitForFilters } from "./testing.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test.skipIf(process.platform !== "linux")(
  "recv reads the socket's bytes in order; 0 when it is empty",
  async () => {
    const path = join(tmpdir(), `drainread-${process.pid}-${Date.now()}.sock`);
    let server: Socket<undefined> | null = null;
    // Bun's own reads would race the test's: the server side is paused, so only DrainReader reads it.
    const listener = Bun.listen({
      unix: path,
      socket: {
        open: (s) => {
          s.pause();
          server = s;
        },
        data() {},
      },
    });
    const client = await Bun.connect({ unix: path, socket: { data() {} } });
    cleanups.push(() => {
      client.end();
      listener.stop(true);
      rmSync(path, { force: true });
    });
    await waitFor(() => server !== null, "accepted");
    const fd = (server as unknown as { fd: number }).fd;
    const reader = DrainReader.create(4096)!;
    expect(reader.recv(fd)).toBe(0); // nothing sent yet: no wait, no bytes
    const sent = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff);
    expect(client.write(sent)).toBe(sent.byteLength);
    const got: number[] = [];
    await waitFor(() => {
      for (let n = reader.recv(fd); n > 0; n = reader.recv(fd)) got.push(...reader.buf.subarray(0, n));
      return got.length >= sent.byteLength;
    }, "all bytes");
    expect(Uint8Array.from(got)).toEqual(sent);
    expect(reader.reads).toBeGreaterThanOrEqual(3); // 10,000 bytes through a 4,096-byte buffer
    expect(reader.bytes).toBe(sent.byteLength);
  },
);

test("a collector far ahead of the relay: the relay reads on from its socket itself; every frame arrives once, in order", async () => {
  const relay = await startRelayProcess({
    env: { TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES: String(256 << 20) },
  });
  cleanups.push(() => relay[Symbol.asyncDispose]());
  // The collector's own order, in each frame's id (the relay rewrites seq to its journal seq, not id).
  let next = 0;
  let disorder = 0;
  const consumer = connectRelayConsumer({
    path: relay.outPath,
    name: "order",
    onFrame(view, offset) {
      if (frameKind(view, offset) === Kind.Status) return;
      if (frameId(view, offset) !== next) disorder++;
      next = frameId(view, offset) + 1;
    },
  });
  cleanups.push(() => consumer.close());
  await waitForFilters(relay, ["order"]);
  const total = 1 << 20; // 48 MiB
  const perWrite = 1 << 14;
  const producer = await connectRelayProducer({ path: relay.inPath, bufferBytes: 8 << 20 });
  cleanups.push(() => producer.close());
  const batch = frames(Array.from({ length: perWrite }, () => ({})));
  const view = new DataView(batch.buffer);
  for (let first = 0; first < total; first += perWrite) {
    for (let j = 0; j < perWrite; j++) {
      view.setUint32(j * FRAME_SIZE + FrameOffset.seq, first + j + 1, true); // collector seq, contiguous
      view.setUint32(j * FRAME_SIZE + FrameOffset.id, first + j, true); // id's low word
    }
    while (!producer.send(batch)) await producer.drained();
  }
  await waitFor(() => next >= total, "every frame at the consumer", 60_000);
  expect(next).toBe(total);
  expect(disorder).toBe(0);
  if (process.platform === "linux") {
    // The relay read on from the socket itself after large reads, so those bytes skipped Bun's fresh buffers.
    expect(await relay.metric("tapewire_relay_ingest_drain_reads")).toBeGreaterThan(0);
  }
}, 90_000);
