// The pass-through ingest socket of an importing relay (relay/passthrough.ts), on a real relay process: frames
// keep the seq they arrive with, duplicates are dropped, a forward jump is one Gap frame with the exact count,
// and the journal (resume across the jump, after a kill -9) agrees.
import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  Exchange,
  FRAME_SIZE,
  type FrameFields,
  frameKind,
  frameSeq,
  frameStatus,
  Kind,
  Status,
} from "../schema/frame.ts";
import { connectRelayProducer } from "./producer.ts";
import { collect, frames, startRelayProcess, tempDir, waitFor } from "./testing.ts";

const trades = (from: number, to: number): Partial<FrameFields>[] =>
  Array.from({ length: to - from }, (_, i) => ({
    exchange: Exchange.Binance,
    seq: from + i,
    id: 7000 + from + i,
  }));

const seqs = (list: FrameFields[]) => list.map((f) => f.seq);

/** A socket data handler that records the seq of every Ack the relay sends back. */
const recordAcks =
  (acks: number[]) =>
  (_s: unknown, chunk: Uint8Array): void => {
    const v = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let off = 0; off + FRAME_SIZE <= chunk.byteLength; off += FRAME_SIZE)
      if (frameKind(v, off) === Kind.Status && frameStatus(v, off) === Status.Ack)
        acks.push(frameSeq(v, off));
  };
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test("pass-through keeps seqs, drops resends, reports a jump as one Gap frame; the journal resumes across it", async () => {
  const dir = tempDir();
  const passthrough = join(dir, "run", "pt.sock");
  const env = { TAPEWIRE_RELAY_PASSTHROUGH_IN: passthrough };
  let relay = await startRelayProcess({ dir, env });
  try {
    const live = collect(relay.outPath, { name: "live" });
    await waitFor(() => live.consumer.connected, "consumer");
    const firstAcks: number[] = [];
    const producer = await Bun.connect({ unix: passthrough, socket: { data: recordAcks(firstAcks) } });
    const firstRun = [
      frames(trades(100, 200)),
      frames(trades(150, 200)), // a resend after a reconnect: all duplicates
      frames(trades(250, 260)), // 200..249 never arrive
    ];
    for (const bytes of firstRun) expect(producer.write(bytes)).toBe(bytes.length);
    await waitFor(() => live.frames.length >= 111, "frames at the consumer");
    expect(seqs(live.frames)).toEqual([...range(100, 200), 249, ...range(250, 260)]);
    const gap = live.frames[100]!;
    expect([gap.kind, gap.flags >> 4, gap.id, gap.price, gap.exchange]).toEqual([
      Kind.Status,
      Status.Gap,
      200,
      50,
      Exchange.Binance,
    ]);
    expect(live.frames.slice(0, 100).map((f) => f.id)).toEqual(range(7100, 7200));
    expect(await relay.metric('tapewire_relay_duplicate_frames_total{exchange="binance"}')).toBe(50);
    // Acknowledged like a collector: the relay acks the last seq it took once the journal has it. Only then is
    // a kill -9 sure to find 259 in the journal (killed before the ack, a resend of 255.. is rightly taken).
    await waitFor(() => firstAcks.includes(259), "the ack of seq 259", 5_000);
    expect(relay.logs.some((l) => l.msg === "pass-through connection bound")).toBe(true);
    producer.end();
    live.consumer.close();

    // kill -9: the journal's state says where the sequence is; a resend of 255..269 takes only 260..269.
    relay.proc.kill("SIGKILL");
    await relay.proc.exited;
    relay = await startRelayProcess({ dir, env });
    const again = await connectRelayProducer({ path: passthrough });
    const after = collect(relay.outPath, { name: "after" });
    await waitFor(() => after.consumer.connected, "consumer after restart");
    again.send(frames(trades(255, 270)));
    await again.drained();
    await waitFor(() => after.frames.length >= 10, "frames after the restart");
    expect(seqs(after.frames)).toEqual(range(260, 270));
    await again.close();
    after.consumer.close();

    // A resend of only what the journal has (nothing new to flush) is still acknowledged.
    const acks: number[] = [];
    const raw = await Bun.connect({ unix: passthrough, socket: { data: recordAcks(acks) } });
    raw.write(frames(trades(262, 270)));
    await waitFor(() => acks.includes(269), "an ack for a duplicates-only resend", 5_000);
    raw.end();
    // The same on the collector socket: a collector resending only what is journaled gets its ack.
    const run = [
      {
        kind: Kind.Status,
        flags: Status.CollectorStart << 4,
        exchange: Exchange.Kraken,
        seq: 0,
        id: 9,
        price: 5,
      },
      ...Array.from({ length: 9 }, (_, i) => ({ exchange: Exchange.Kraken, seq: i + 1, id: i + 1 })),
    ];
    for (const round of [0, 1]) {
      const got: number[] = [];
      const c = await Bun.connect({ unix: relay.inPath, socket: { data: recordAcks(got) } });
      c.write(frames(round === 0 ? run : run.slice(5)));
      await waitFor(() => got.includes(9), `collector ack, round ${round}`, 5_000);
      c.end();
    }

    // Resume from the journal, before the jump and inside it.
    const before = collect(relay.outPath, { name: "r1", resume: { from: { binance: 190 } } });
    const inside = collect(relay.outPath, { name: "r2", resume: { from: { binance: 220 } } });
    await waitFor(() => before.frames.length >= 31 && inside.frames.length >= 21, "resumed frames");
    expect(seqs(before.frames)).toEqual([...range(190, 200), 249, ...range(250, 270)]);
    expect(seqs(inside.frames)).toEqual([249, ...range(250, 270)]);
    before.consumer.close();
    inside.consumer.close();
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
