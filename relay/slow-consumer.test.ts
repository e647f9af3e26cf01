// A consumer stopped with SIGSTOP under load: the producer and the healthy consumer go on at full speed with
// no loss; the stopped one is cut at its queue bound and, once resumed, reads a final SlowConsumer frame.
import { afterEach, expect, test } from "bun:test";
import { FRAME_SIZE } from "../schema/frame.ts";
import { connectRelayProducer } from "./index.ts";
import { frames, spawnConsumerFixture, startRelayProcess, waitFor, waitForFilters } from "./testing.ts";

interface Report {
  event: string;
  name: string;
  data: number;
  discontinuities: number;
  lastSeq: Record<string, number>;
  slowConsumer: { dropped: number; exchange: number; seq: number } | null;
  reason?: string;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const spawnFixture = (path: string, name: string, mode = "") =>
  spawnConsumerFixture<Report>(path, name, cleanups, mode);

test("a SIGSTOPped consumer is cut with a SlowConsumer frame; producer and healthy consumer are unaffected", async () => {
  const queueBytes = 4 << 20;
  const relay = await startRelayProcess({
    env: { TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES: String(queueBytes), TAPEWIRE_RELAY_SLOW_GRACE_MS: "20000" },
  });
  cleanups.push(() => relay[Symbol.asyncDispose]());
  const healthy = spawnFixture(relay.outPath, "healthy");
  const stopped = spawnFixture(relay.outPath, "stopped");
  await waitForFilters(relay, ["healthy", "stopped"]);
  stopped.proc.kill("SIGSTOP");

  const producer = await connectRelayProducer({ path: relay.inPath, bufferBytes: 1 << 20 });
  // 400k frames (19.7 MB, far beyond the stopped consumer's queue plus its socket buffer) paced at 500k frames/s:
  // five times the design's per-exchange rate, yet slow enough that the healthy consumer never falls 4 MiB behind.
  const total = 409_600;
  const rate = 500_000;
  const batch = frames(Array.from({ length: 512 }, () => ({})));
  const view = new DataView(batch.buffer);
  const t0 = performance.now();
  for (let seq = 0; seq < total; seq += 512) {
    while (seq > ((performance.now() - t0) * rate) / 1000) await Bun.sleep(1);
    for (let j = 0; j < 512; j++) view.setUint32(j * FRAME_SIZE + 4, seq + j, true);
    while (!producer.send(batch)) await producer.drained();
  }
  await producer.close();
  expect(producer.sent).toBe(total);

  // The healthy consumer got everything, in order, while the other one was still stopped.
  await waitFor(() => healthy.reports.some((r) => r.event === "summary"), "healthy consumer summary", 20_000);
  const done = healthy.reports.find((r) => r.event === "summary")!;
  expect(done.data).toBe(total);
  expect(done.discontinuities).toBe(0);
  expect(done.lastSeq["1"]).toBe(total - 1);
  expect(healthy.reports.filter((r) => r.event === "closed")).toEqual([]);
  expect(await relay.metric("tapewire_relay_slow_consumer_disconnects_total")).toBe(1);
  const dropped = await relay.metric("tapewire_relay_dropped_frames_total");
  expect(dropped).toBeGreaterThan(0);
  expect(stopped.reports.filter((r) => r.event === "closed")).toEqual([]);

  // Resumed: it reads what was queued for it, then the SlowConsumer frame, then the relay closes it.
  stopped.proc.kill("SIGCONT");
  await waitFor(() => stopped.reports.some((r) => r.event === "closed"), "stopped consumer closed", 20_000);
  const cut = stopped.reports.find((r) => r.event === "closed")!;
  expect(cut.slowConsumer).not.toBeNull();
  expect(cut.slowConsumer!.dropped).toBe(dropped);
  expect(cut.discontinuities).toBe(0);
  expect(cut.slowConsumer!.seq).toBe(cut.lastSeq["1"]! + 1); // exactly where its stream stopped
  expect(cut.data).toBeGreaterThanOrEqual(queueBytes / FRAME_SIZE - 1);
  expect(cut.data).toBeLessThan(total);

  // It reconnects by itself and resumes fresh from the live point.
  await waitFor(() => stopped.reports.filter((r) => r.event === "connected").length === 2, "reconnect");
  await waitForFilters(relay, ["stopped"]);
  await waitFor(
    () => relay.logs.filter((l) => l.msg === "consumer filter set" && l.name === "stopped").length === 2,
    "refilter",
  );
  const again = await connectRelayProducer({ path: relay.inPath });
  again.send(frames([{ seq: total }, { seq: total + 1 }]));
  await again.close();
  await waitFor(() => stopped.reports.filter((r) => r.event === "summary").length === 1, "fresh frames");
  const fresh = stopped.reports.find((r) => r.event === "summary")!;
  // seq is the relay's journal seq: the first producer's Disconnected frame took `total`.
  expect(fresh.lastSeq["1"]).toBe(total + 2);
  expect(fresh.data).toBe(cut.data + 2);
}, 30_000);

test("a cut consumer that resumes gets every frame: the dropped ones and those sent while it was away", async () => {
  const relay = await startRelayProcess({
    env: { TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES: "65536", TAPEWIRE_RELAY_SLOW_GRACE_MS: "200" },
  });
  cleanups.push(() => relay[Symbol.asyncDispose]());
  const resumer = spawnFixture(relay.outPath, "resumer", "resume");
  await waitForFilters(relay, ["resumer"]);
  resumer.proc.kill("SIGSTOP");
  const producer = await connectRelayProducer({ path: relay.inPath, bufferBytes: 1 << 20 });
  const total = 51_200; // 2.4 MB: far beyond its 64 KiB queue and its socket buffer
  const batch = frames(Array.from({ length: 512 }, () => ({})));
  const view = new DataView(batch.buffer);
  for (let seq = 0; seq < total; seq += 512) {
    for (let j = 0; j < 512; j++) view.setUint32(j * FRAME_SIZE + 4, seq + j, true);
    while (!producer.send(batch)) await producer.drained();
    await Bun.sleep(1);
  }
  await waitFor(
    async () => (await relay.metric("tapewire_relay_slow_consumer_disconnects_total")) === 1,
    "cut",
  );
  resumer.proc.kill("SIGCONT");
  await waitFor(() => resumer.reports.filter((r) => r.event === "connected").length >= 2, "reconnected");
  await producer.close(); // its Disconnected frame ends the stream: the fixture reports a summary there
  await waitFor(() => resumer.reports.some((r) => r.event === "summary"), "summary after resuming", 20_000);
  const done = resumer.reports.find((r) => r.event === "summary")!;
  expect(done.data).toBe(total);
  expect(done.discontinuities).toBe(0);
  expect(done.lastSeq["1"]).toBe(total - 1);
  expect(await relay.metric("tapewire_relay_resumes_total")).toBeGreaterThanOrEqual(1);
}, 30_000);
