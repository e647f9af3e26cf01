// `bun run replay` (relay/playback-cli.ts) end to end: a known tape is recorded through a real relay into a
// temp journal, then replayed by the CLI process through a replay relay (--out) and into a second real
// relay's ingest (--into) to ordinary consumers. Frame-for-frame equality; pacing by the frames' tsRecv
// (2× takes about half the recorded span: ordering and generous bounds, not tight timings).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "bun";
import {
  decodeFrame,
  EXCHANGE_IDS,
  type Exchange,
  FRAME_SIZE,
  type FrameFields,
  Kind,
  Status,
} from "../schema/frame.ts";
import { type ConsumerFilter, connectRelayConsumer } from "./client.ts";
import { JournalReader } from "./journal/reader.ts";
import { parseSpeed } from "./playback.ts";
import { parseReplayArgs, parseTimeNs, ReplayArgsError } from "./playback-cli.ts";
import { connectRelayProducer } from "./producer.ts";
import {
  frames,
  type LogLine,
  type RelayProcess,
  readLines,
  startRelayProcess,
  tempDir,
  waitFor,
} from "./testing.ts";

const ROOT = join(import.meta.dir, "..");
const SPAN_MS = 1600;
const ROUNDS = 40;
const PER_ROUND = 15; // per exchange
const KRAKEN = EXCHANGE_IDS.kraken;
const BINANCE = EXCHANGE_IDS.binance;

let dir: string;
let journal: string;
/** What a consumer of the recording relay received: the journal's frames, byte for byte. */
let recorded: Uint8Array[] = [];
let firstTs = 0;

/** A consumer keeping each frame's bytes and its arrival time. */
function rawConsumer(path: string, filter?: ConsumerFilter) {
  const got: Uint8Array[] = [];
  const at: number[] = [];
  const consumer = connectRelayConsumer({
    path,
    name: "replay-test",
    filter,
    reconnectMinMs: 10,
    reconnectMaxMs: 50,
    onFrame(view, offset) {
      got.push(
        new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + FRAME_SIZE)),
      );
      at.push(performance.now());
    },
  });
  return { got, at, consumer };
}
const fields = (b: Uint8Array): FrameFields =>
  decodeFrame(new DataView(b.buffer, b.byteOffset, FRAME_SIZE), 0);
const hex = (list: Uint8Array[]) => list.map((b) => Buffer.from(b).toString("hex"));

beforeAll(async () => {
  dir = tempDir("tapewire-replay-");
  journal = join(dir, "rec", "journal");
  await using relay = await startRelayProcess({ dir: join(dir, "rec") });
  const sink = rawConsumer(relay.outPath);
  await waitFor(() => relay.logs.some((l) => l.msg === "consumer filter set"), "recording consumer");
  const kraken = await connectRelayProducer({ path: relay.inPath });
  const binance = await connectRelayProducer({ path: relay.inPath });
  // tsRecv is the collector's stamp: spread evenly over SPAN_MS, increasing in the order sent.
  firstTs = Date.now() * 1e6;
  const step = (SPAN_MS * 1e6) / (2 * ROUNDS * PER_ROUND - 1);
  let n = 0;
  const batch = (exchange: Exchange, round: number) =>
    frames(
      Array.from({ length: PER_ROUND }, (_, i): Partial<FrameFields> => {
        const k = round * PER_ROUND + i;
        const ts = firstTs + Math.round(step * n++);
        return i % 5 === 4
          ? {
              kind: Kind.Bbo,
              exchange,
              instrument: 2,
              seq: k + 1,
              price: 100 + k,
              size: 7,
              tsRecv: ts,
              tsExchange: ts - 1000,
            }
          : {
              kind: Kind.Trade,
              exchange,
              instrument: 1 + (k % 2),
              seq: k + 1,
              id: 5000 + k,
              price: 200 + k,
              size: 3 + i,
              tsRecv: ts,
              tsExchange: ts - 2000,
              flags: 0x10,
            };
      }),
    );
  for (let r = 0; r < ROUNDS; r++) {
    kraken.send(batch(KRAKEN, r));
    await waitFor(() => sink.got.length === (2 * r + 1) * PER_ROUND, "kraken round relayed");
    binance.send(batch(BINANCE, r));
    await waitFor(() => sink.got.length === (2 * r + 2) * PER_ROUND, "binance round relayed");
  }
  await kraken.close();
  await binance.close();
  // The relay makes a Disconnected frame per exchange: part of the tape too.
  await waitFor(() => sink.got.length === 2 * ROUNDS * PER_ROUND + 2, "the Disconnected frames");
  sink.consumer.close();
  recorded = sink.got;
  // Committed, not only relayed: a journal write still in flight at SIGTERM is never acknowledged or read back.
  await waitFor(
    async () =>
      (await relay.metric("tapewire_relay_journal_committed_position")) ===
      (await relay.metric("tapewire_relay_journal_head_position")),
    "the tape committed",
  );
  expect(await relay.stop()).toBe(0);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  logs: LogLine[];
  pid: number;
}

/** Run the CLI; `during` runs once it listens (--out) or at once (--into). */
async function replay(args: string[], during?: () => Promise<void>): Promise<Run> {
  const withJournal = args.includes("--journal") ? args : ["--journal", journal, ...args];
  const proc = spawn(["bun", "relay/playback-cli.ts", ...withJournal], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const logs: LogLine[] = [];
  const done = readLines(proc.stderr, (line) => {
    try {
      logs.push(JSON.parse(line));
    } catch {
      logs.push({ msg: line, level: "raw" });
    }
  });
  if (args.includes("--out"))
    await waitFor(() => logs.some((l) => l.msg === "replay listening"), "replay listening", 20_000);
  await during?.();
  const code = await proc.exited;
  await done;
  return { code, logs, pid: proc.pid };
}

/** Replay to consumers on a replay relay; resolves with what each received. */
async function serve(extra: string[], filters: (ConsumerFilter | undefined)[] = [undefined]) {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`, "replay.sock");
  const sinks: ReturnType<typeof rawConsumer>[] = [];
  const run = await replay(["--out", out, "--consumers", String(filters.length), ...extra], async () => {
    for (const f of filters) sinks.push(rawConsumer(out, f));
  });
  for (const s of sinks) s.consumer.close();
  expect(run.code).toBe(0);
  const finished = run.logs.find((l) => l.msg === "replay finished")!;
  expect(finished).toBeDefined();
  return { sinks, finished };
}

test("the recording is in the journal as consumers got it", () => {
  expect(recorded).toHaveLength(2 * ROUNDS * PER_ROUND + 2);
  const reader = new JournalReader(journal);
  const all: Uint8Array[] = [];
  for (const chunk of reader.frames({}, new Uint8Array(100 * FRAME_SIZE)))
    for (let off = 0; off < chunk.byteLength; off += FRAME_SIZE) all.push(chunk.slice(off, off + FRAME_SIZE));
  expect(hex(all)).toEqual(hex(recorded));
});

describe("--out: a replay relay", () => {
  let paced2x: Awaited<ReturnType<typeof serve>>;
  let paced1x: Awaited<ReturnType<typeof serve>>;
  const span = (s: { at: number[] }) => s.at.at(-1)! - s.at[0]!;

  test("2×: every frame, byte for byte and in order, in about half the recorded span", async () => {
    paced2x = await serve(["--speed", "2x"]);
    const [s] = paced2x.sinks;
    expect(hex(s!.got)).toEqual(hex(recorded));
    expect(paced2x.finished.frames).toBe(recorded.length);
    expect(paced2x.finished.recordedSpanMs).toBeCloseTo(SPAN_MS, 0);
    // Pacing never runs early; the upper bound is generous for a loaded machine.
    expect(span(s!)).toBeGreaterThan(0.9 * (SPAN_MS / 2));
    expect(span(s!)).toBeLessThan(SPAN_MS / 2 + 1500);
  }, 60_000);

  test("recorded speed takes the recorded span, about twice the 2× run; a filtered consumer gets its part", async () => {
    paced1x = await serve(["--speed", "recorded"], [undefined, { kinds: ["trade"], exchanges: ["binance"] }]);
    const [all, trades] = paced1x.sinks;
    expect(hex(all!.got)).toEqual(hex(recorded));
    const want = recorded.filter((b) => {
      const f = fields(b);
      return f.kind === Kind.Trade && f.exchange === BINANCE;
    });
    expect(hex(trades!.got)).toEqual(hex(want));
    expect(span(all!)).toBeGreaterThan(0.9 * SPAN_MS);
    expect(span(all!)).toBeLessThan(SPAN_MS + 2000);
    const ratio = span(paced2x.sinks[0]!) / span(all!);
    console.info(
      `replay of a ${SPAN_MS} ms tape: 1x ${span(all!).toFixed(0)} ms, 2x ${span(paced2x.sinks[0]!).toFixed(0)} ms (ratio ${ratio.toFixed(2)})`,
    );
    expect(ratio).toBeGreaterThan(0.3);
    expect(ratio).toBeLessThan(0.75);
  }, 60_000);

  test("max: as fast as the consumer takes it, far under the recorded span", async () => {
    const { sinks } = await serve(["--speed", "max"]);
    expect(hex(sinks[0]!.got)).toEqual(hex(recorded));
    expect(span(sinks[0]!)).toBeLessThan(SPAN_MS / 4);
  }, 60_000);

  test("ranges: per-exchange seq, time, exchanges and instruments", async () => {
    const base = fields(recorded[0]!).seq; // the relay's journal seqs of this tape
    const bySeq = await serve([
      "--speed",
      "max",
      "--from",
      `kraken=${base + 100}`,
      "--to",
      `kraken=${base + 250}`,
    ]);
    const wantSeq = recorded.filter((b) => {
      const f = fields(b);
      return f.exchange === KRAKEN && f.seq >= base + 100 && f.seq < base + 250;
    });
    expect(wantSeq).toHaveLength(150);
    expect(hex(bySeq.sinks[0]!.got)).toEqual(hex(wantSeq));

    const from = firstTs + 400e6;
    const to = firstTs + 900e6;
    const byTime = await serve([
      "--speed",
      "max",
      "--from-time",
      String(from),
      "--to-time",
      new Date(to / 1e6).toISOString(),
      "--exchanges",
      "binance",
      "--instruments",
      "BTC-USD,2",
    ]);
    const wantTime = recorded.filter((b) => {
      const f = fields(b);
      return f.exchange === BINANCE && f.tsRecv >= from && f.tsRecv < to;
    });
    expect(wantTime.length).toBeGreaterThan(50);
    expect(hex(byTime.sinks[0]!.got)).toEqual(hex(wantTime));

    const one = await serve(["--speed", "max", "--exchanges", "kraken", "--instruments", "2"]);
    const wantOne = recorded.filter((b) => {
      const f = fields(b);
      return f.exchange === KRAKEN && (f.instrument === 2 || f.instrument === 0);
    });
    expect(hex(one.sinks[0]!.got)).toEqual(hex(wantOne));
  }, 90_000);
});

test("--into: through a running relay's ingest, each exchange's frames in order, re-sequenced by that relay", async () => {
  await using relay: RelayProcess = await startRelayProcess({ dir: join(dir, "into") });
  const sink = rawConsumer(relay.outPath);
  await waitFor(
    () => relay.logs.some((l) => l.msg === "consumer filter set"),
    "consumer on the second relay",
  );
  const run = await replay(["--into", relay.inPath, "--speed", "max"]);
  if (run.code !== 0) console.error(run.logs);
  expect(run.code).toBe(0);
  // Recorded frames + our CollectorStart per exchange + the relay's Disconnected per exchange at the end.
  await waitFor(() => sink.got.length === recorded.length + 4, "the replayed frames on the second relay");
  sink.consumer.close();
  for (const ex of [KRAKEN, BINANCE]) {
    const got = sink.got.map(fields).filter((f) => f.exchange === ex);
    const want = recorded.map(fields).filter((f) => f.exchange === ex);
    expect(got[0]).toMatchObject({ kind: Kind.Status, flags: Status.CollectorStart << 4, id: run.pid });
    expect(got.at(-1)).toMatchObject({ kind: Kind.Status, flags: Status.Disconnected << 4 });
    const body = got.slice(1, -1);
    expect(body.map((f) => ({ ...f, seq: 0 }))).toEqual(want.map((f) => ({ ...f, seq: 0 })));
    // The second relay's own journal seqs: contiguous per exchange.
    expect(got.map((f) => f.seq)).toEqual(got.map((_, i) => got[0]!.seq + i));
  }
}, 60_000);

test("the journal of a running relay replays what it has committed, and the relay is untouched", async () => {
  await using live = await startRelayProcess({ dir: join(dir, "live") });
  const producer = await connectRelayProducer({ path: live.inPath });
  producer.send(
    frames(Array.from({ length: 300 }, (_, i) => ({ seq: i + 1, id: i + 1, tsRecv: firstTs + i }))),
  );
  const liveJournal = join(dir, "live", "journal");
  // Committed (a commit record written), not only accepted: what a reader of the files may see.
  await waitFor(() => new JournalReader(liveJournal).endPos >= 300, "committed on the live relay");
  const out = join(dir, "live-out", "replay.sock");
  const sink: ReturnType<typeof rawConsumer>[] = [];
  const run = await replay(["--journal", liveJournal, "--out", out, "--speed", "max"], async () => {
    sink.push(rawConsumer(out));
  });
  sink[0]!.consumer.close();
  expect(run.code).toBe(0);
  expect(sink[0]!.got.map(fields).map((f) => f.id)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  // The relay goes on journaling after the replay read its files.
  producer.send(frames([{ seq: 301, id: 301, tsRecv: firstTs + 301 }]));
  await waitFor(() => new JournalReader(liveJournal).endPos >= 301, "the live relay still journaling");
  await producer.close();
}, 60_000);

test("no relay behind --into: exit 1 with the reason logged; no journal: exit 2", async () => {
  const gone = await replay(["--into", join(dir, "nobody", "in.sock"), "--speed", "max"]);
  expect(gone.code).toBe(1);
  expect(gone.logs.find((l) => l.msg === "replay failed")).toBeDefined();
  const proc = spawn(
    ["bun", "relay/playback-cli.ts", "--journal", join(dir, "none"), "--out", join(dir, "x.sock")],
    {
      cwd: ROOT,
      stderr: "pipe",
    },
  );
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toContain("does not exist");
}, 30_000);

test("bad arguments are refused with a message naming them", () => {
  const bad = (argv: string[], message: string) =>
    expect(() => parseReplayArgs(argv, {})).toThrow(new RegExp(message));
  bad([], "exactly one of --out");
  bad(["--out", "a", "--into", "b"], "exactly one of --out");
  bad(["--out", "a", "--from", "kraken:5"], "--from");
  bad(["--out", "a", "--from", "mtgox=5"], "EXCHANGE=SEQ");
  bad(["--out", "a", "--exchanges", "kraken,ftx"], "unknown exchange");
  bad(["--out", "a", "--instruments", "NOPE-USD"], "no instrument");
  bad(["--out", "a", "--speed", "0"], "--speed");
  bad(["--out", "a", "--speed", "fast"], "--speed");
  bad(["--out", "a", "--from-time", "yesterday"], "RFC 3339");
  bad(["--out", "a", "--from-time", "2026-01-02T00:00:00Z", "--to-time", "2026-01-01T00:00:00Z"], "before");
  bad(["--out", "a", "--bogus"], "Unknown option");
  expect(() => parseReplayArgs(["--out", "a", "--consumers", "-1"], {})).toThrow(ReplayArgsError);
  expect(parseSpeed("2x")).toBe(2);
  expect(parseSpeed("0.5")).toBe(0.5);
  expect(parseSpeed("max")).toBe(Number.POSITIVE_INFINITY);
  expect(parseTimeNs("2026-12-01T10:00:00.123456789Z", "t")).toBe(
    Date.parse("2026-12-01T10:00:00Z") * 1e6 + 123456789,
  );
  const ok = parseReplayArgs(
    ["--out", "s", "--from", "kraken=5", "--instruments", "BTC-USD", "--speed", "3x"],
    {
      TAPEWIRE_JOURNAL_DIR: "/j",
    },
  );
  expect(ok).toMatchObject({
    journal: "/j",
    speed: 3,
    out: "s",
    range: { fromSeq: { 1: 5 }, instruments: [1] },
  });
});
