// The journal on real relay processes and sockets: acks, resume from a seq and from a time with no gap and no
// duplicate at the seam, a position older than the journal gives the exact gap count, a torn tail is cut.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { EXCHANGE_IDS, type FrameFields, Kind, Status } from "../schema/frame.ts";
import { connectRelayProducer } from "./index.ts";
import {
  collect,
  frames,
  rawCollector,
  startRelayProcess,
  tempDir,
  waitFor,
  waitForFilters,
} from "./testing.ts";

const { kraken } = EXCHANGE_IDS;
const canMount = process.platform === "linux" && process.getuid?.() === 0;
if (!canMount) console.warn("SKIPPING the journal's full-disk test: it mounts a tmpfs (root on Linux)");
const T0 = 1_700_000_000_000_000_000;
/** Kraken trades with collector seq `from`..`from + n - 1`; tsRecv is 1 µs apart so time positions are exact. */
const trades = (from: number, n: number) =>
  frames(
    Array.from({ length: n }, (_, i) => ({
      exchange: kraken,
      seq: from + i,
      id: from + i,
      price: 100 + from + i,
      tsRecv: T0 + (from + i) * 1024,
    })),
  );
const start = frames([
  { exchange: kraken, seq: 0, kind: Kind.Status, flags: Status.CollectorStart << 4, id: 7 },
]);

describe("journal", () => {
  test("acks carry the highest journaled collector seq; a resent frame is dropped, not journaled twice", async () => {
    await using relay = await startRelayProcess();
    const all = collect(relay.outPath, { name: "all" });
    using _all = all.consumer;
    await waitForFilters(relay, ["all"]);
    using c = await rawCollector(relay.inPath);
    await c.write(start);
    await c.write(trades(1, 99));
    await waitFor(() => c.lastAck() === 99, "ack of seq 99");
    const ack = c.acks.at(-1)!;
    expect([ack.kind, ack.flags >> 4, ack.exchange, ack.seq]).toEqual([Kind.Status, Status.Ack, kraken, 99]);
    await c.write(trades(90, 20)); // 90..99 again, as after a reconnect, then 100..109
    await waitFor(() => c.lastAck() === 109, "ack of seq 109");
    await waitFor(() => all.frames.length === 110, "110 frames");
    expect(all.frames.map((f) => f.id)).toEqual([7, ...Array.from({ length: 109 }, (_, i) => i + 1)]);
    expect(await relay.metric('tapewire_relay_duplicate_frames_total{exchange="kraken"}')).toBe(10);
    expect(await relay.metric('tapewire_relay_journal_head_seq{exchange="kraken"}')).toBe(110);
  });

  test("resume from a seq and from a time: journaled frames, then live, no gap and no duplicate at the seam", async () => {
    await using relay = await startRelayProcess();
    const live = collect(relay.outPath, { name: "live" });
    using _live = live.consumer;
    await waitForFilters(relay, ["live"]);
    await using p = await connectRelayProducer({ path: relay.inPath });
    p.send(start);
    let next = 1;
    const pump = setInterval(() => {
      p.send(trades(next, 50));
      next += 50;
    }, 2);
    const bySeq = collect(relay.outPath, { name: "by-seq", resume: { from: { kraken: 321 } } });
    // By time: the first frame whose tsRecv ≥ that of collector seq 500 (journal seq 500 here).
    const byTime = collect(relay.outPath, {
      name: "by-time",
      resume: { fromTime: String(BigInt(T0) + 500n * 1024n) },
    });
    using _bySeq = bySeq.consumer;
    using _byTime = byTime.consumer;
    try {
      await waitFor(() => live.frames.length > 1000, "1000 live frames");
      // Both started while frames kept flowing: they read the journal, then joined live.
      await waitFor(
        () => relay.logs.filter((l) => l.msg === "consumer caught up; live").length === 2,
        "seams",
      );
      await waitFor(() => live.frames.length > 3000, "3000 live frames after the seams");
    } finally {
      clearInterval(pump);
    }
    await p.drained();
    const end = next; // journal seq of the last frame + 1 (journal seq 0 is the start frame)
    await waitFor(() => [live, bySeq, byTime].every((c) => c.frames.at(-1)?.seq === end - 1), "everything");
    const range = (from: number) => Array.from({ length: end - from }, (_, i) => from + i);
    expect(seqsOf(live.frames)).toEqual(range(0));
    expect(seqsOf(bySeq.frames)).toEqual(range(321));
    expect(seqsOf(byTime.frames)).toEqual(range(500));
    expect(bySeq.frames.at(400)).toEqual(live.frames[321 + 400]!);
  }, 30_000);

  test("a position older than the journal holds gets a gap frame with the exact count, then the oldest held", async () => {
    await using relay = await startRelayProcess({
      env: {
        TAPEWIRE_JOURNAL_SEGMENT_BYTES: "4096", // 85 frames a segment
        TAPEWIRE_JOURNAL_RETENTION_BYTES: "8192",
        TAPEWIRE_JOURNAL_REQUIRE_ARCHIVE: "false",
      },
    });
    using c = await rawCollector(relay.inPath);
    await c.write(start);
    for (let i = 1; i < 1000; i += 100) {
      await c.write(trades(i, 100));
      await waitFor(() => c.lastAck() === i + 99, `ack ${i + 99}`); // one flush each: segments rotate
    }
    // Rotation and retention finish on the thread pool, shortly after the last ack.
    const oldestSeq = () => relay.metric('tapewire_relay_journal_oldest_seq{exchange="kraken"}');
    // Settled: retention deletes the oldest closed segments until the journal is within its 8192 bytes
    // (reading oldest_seq before then let it move on under the resume).
    await waitFor(
      async () => (await oldestSeq()) > 500 && (await relay.metric("tapewire_relay_journal_bytes")) <= 8192,
      "retention past seq 500, down to its bound",
    );
    const oldest = await oldestSeq();
    const late = collect(relay.outPath, { name: "late", resume: { from: { kraken: 10 } } });
    using _late = late.consumer;
    await waitFor(() => late.frames.at(-1)?.seq === 1000, "up to the head"); // start + trades 1..1000
    const [gap, ...rest] = late.frames;
    expect([gap!.kind, gap!.flags >> 4, gap!.exchange, gap!.id, gap!.price]).toEqual([
      Kind.Status,
      Status.Gap,
      kraken,
      10,
      oldest - 10,
    ]);
    expect(gap!.seq).toBe(oldest - 1);
    expect(rest.map((f) => f.seq)).toEqual(Array.from({ length: 1001 - oldest }, (_, i) => oldest + i));
    expect(await relay.metric("tapewire_relay_journal_deleted_segments")).toBeGreaterThan(0);
  });

  test("kill -9, a torn tail cut mid-frame at start-up: the journal holds whole committed frames, seq goes on", async () => {
    const dir = tempDir();
    {
      await using relay = await startRelayProcess({ dir });
      using c = await rawCollector(relay.inPath);
      await c.write(start);
      await c.write(trades(1, 99));
      await waitFor(() => c.lastAck() === 99, "first flush");
      await c.write(trades(100, 100));
      await waitFor(() => c.lastAck() === 199, "second flush");
      relay.proc.kill("SIGKILL");
      await relay.proc.exited;
    }
    // The crash tore the last write: 20 bytes of its last frame never reached the disk.
    const journalDir = join(dir, "journal");
    const last = readdirSync(journalDir)
      .filter((n) => n.endsWith(".frames"))
      .sort()
      .at(-1)!;
    const path = join(journalDir, last);
    truncateSync(path, statSync(path).size - 20);
    await using again = await startRelayProcess({ dir });
    expect(again.logs.some((l) => l.msg === "journal: torn tail cut")).toBe(true);
    expect(await again.metric("tapewire_relay_journal_torn_bytes")).toBeGreaterThan(0);
    // The second flush is gone (its record points past the file): 100 frames survive, and seq goes on from there.
    expect(await again.metric('tapewire_relay_journal_head_seq{exchange="kraken"}')).toBe(100);
    using c = await rawCollector(again.inPath);
    await c.write(trades(100, 100)); // the collector resends what the relay no longer has
    await waitFor(() => c.lastAck() === 199, "resent frames journaled");
    const replay = collect(again.outPath, { name: "replay", resume: { from: { kraken: 0 } } });
    using _replay = replay.consumer;
    await waitFor(() => replay.frames.at(-1)?.seq === 199, "whole journal");
    expect(seqsOf(replay.frames)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(replay.frames.slice(1).map((f) => f.id)).toEqual(Array.from({ length: 199 }, (_, i) => i + 1));
  });

  test("kill -9 of the relay under load, then restart: resending from the last ack loses nothing, duplicates dropped", async () => {
    const dir = tempDir();
    const total = 20_000;
    const all = trades(1, total - 1);
    let acked = -1;
    {
      await using relay = await startRelayProcess({ dir });
      using c = await rawCollector(relay.inPath);
      await c.write(start);
      // Under load: 100-frame writes until the relay dies mid-stream.
      for (let i = 0; i < (total - 1) / 2; i += 100) {
        await c.write(all.subarray(i * 48, (i + 100) * 48));
        if (i % 1000 === 0) await Bun.sleep(1);
      }
      await waitFor(() => c.lastAck() > 2000, "some acks");
      relay.proc.kill("SIGKILL");
      await relay.proc.exited;
      acked = c.lastAck();
    }
    await using again = await startRelayProcess({ dir });
    const head = await again.metric('tapewire_relay_journal_head_seq{exchange="kraken"}');
    expect(head).toBeGreaterThanOrEqual(acked + 1); // everything acknowledged survived
    using c = await rawCollector(again.inPath);
    // What a collector does: resend everything after the last ack it got (some of it the journal has).
    await c.write(all.subarray(acked * 48));
    await waitFor(() => c.lastAck() === total - 1, "all journaled", 20_000);
    const replay = collect(again.outPath, { name: "replay", resume: { from: { kraken: 0 } } });
    using _replay = replay.consumer;
    await waitFor(() => replay.frames.at(-1)?.id === total - 1, "whole journal", 20_000);
    const data = replay.frames.filter((f) => f.kind === Kind.Trade);
    expect(data.map((f) => f.id)).toEqual(Array.from({ length: total - 1 }, (_, i) => i + 1));
    expect(seqsOf(replay.frames)).toEqual(Array.from({ length: replay.frames.length }, (_, i) => i));
    // Only the relay's own Disconnected frame is not a trade (the first relay died without writing one).
    expect(replay.frames.filter((f) => f.kind === Kind.Status).map((f) => f.flags >> 4)).toEqual([
      Status.CollectorStart,
    ]);
    expect(await again.metric('tapewire_relay_duplicate_frames_total{exchange="kraken"}')).toBe(
      head - 1 - acked,
    );
  }, 60_000);
  // Root only: a tmpfs to fill. Small flushes are written on the relay's thread, large ones on the thread pool;
  // both retry a failed write, and an ack never covers a frame that is not written.
  test.skipIf(!canMount)(
    "a full disk: no ack past what is written, retries counted; with room again every frame is journaled once, in order",
    async () => {
      const dir = tempDir();
      const journalDir = join(dir, "journal");
      mkdirSync(journalDir, { recursive: true });
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=96k", "tmpfs", journalDir]);
      try {
        await using relay = await startRelayProcess({ dir });
        using c = await rawCollector(relay.inPath);
        await c.write(start);
        for (let i = 1; i <= 5000; i += 100) await c.write(trades(i, 100)); // 240 KB of frames
        const errors = () => relay.metric("tapewire_relay_journal_write_errors");
        await waitFor(async () => (await errors()) >= 3, "three failed writes");
        const stuck = c.lastAck();
        expect(stuck).toBeLessThan(5000);
        await waitFor(async () => (await errors()) >= 6, "three more retries");
        expect(c.lastAck()).toBe(stuck);
        execFileSync("mount", ["-o", "remount,size=4m", journalDir]);
        await waitFor(() => c.lastAck() === 5000, "every frame acknowledged once there is room", 20_000);
        const late = collect(relay.outPath, { name: "late", resume: { from: { kraken: 0 } } });
        using _late = late.consumer;
        await waitFor(() => late.frames.at(-1)?.seq === 5000, "the journal read back to the head");
        expect(late.frames.map((f) => f.seq)).toEqual(Array.from({ length: 5001 }, (_, i) => i));
        expect(late.frames.slice(1).map((f) => f.id)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
      } finally {
        execFileSync("umount", ["-l", journalDir]);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

/** Journal seqs a consumer received for kraken, in order. */
const seqsOf = (list: FrameFields[]) => list.filter((f) => f.exchange === kraken).map((f) => f.seq);
