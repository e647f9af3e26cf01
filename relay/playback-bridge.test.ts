// The bridge as a replay consumer: a tape recorded through a real relay, replayed by `bun run replay --out`
// to `bun bridge/main.ts` (its live and database-writer consumers, --consumers 2), lands in Postgres whole.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "bun";
import { Frames } from "../bridge/testing.ts";
import { type FreshDatabase, freshDatabase, waitFor } from "../lib/testing.ts";
import { Exchange } from "../schema/frame.ts";
import { connectRelayProducer } from "./producer.ts";
import { readLines, startRelayProcess, tempDir } from "./testing.ts";

const ROOT = join(import.meta.dir, "..");
const TRADES = 500;
let dir: string;
let db: FreshDatabase;

beforeAll(async () => {
  dir = tempDir("tapewire-replay-bridge-");
  db = await freshDatabase({ prefix: "tw_replay" });
  await using relay = await startRelayProcess({ dir: join(dir, "rec") });
  const producer = await connectRelayProducer({ path: relay.inPath });
  const frames = new Frames();
  const ts = Date.now() * 1e6;
  for (let id = 1; id <= TRADES; id++)
    frames.trade(Exchange.Binance, 1, id, 9_000_000 + id, 100 + id, 0x20, ts + id * 1e6);
  producer.send(frames.bytes());
  await producer.close();
  // Committed, not only appended: a write still in flight when the relay stops is never acknowledged and
  // never read back (a collector would resend it; this producer does not).
  await waitFor(
    async () =>
      (await relay.metric('tapewire_relay_journal_head_seq{exchange="binance"}')) >= TRADES &&
      (await relay.metric("tapewire_relay_journal_committed_position")) ===
        (await relay.metric("tapewire_relay_journal_head_position")),
    { timeoutMs: 15_000, what: "the tape journaled and committed" },
  );
}, 60_000);

afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test("replayed to the bridge, every trade is stored once", async () => {
  const out = join(dir, "replay", "out.sock");
  const replay = spawn(
    [
      "bun",
      "relay/playback-cli.ts",
      "--journal",
      join(dir, "rec", "journal"),
      "--out",
      out,
      "--consumers",
      "2",
      "--speed",
      "max",
    ],
    { cwd: ROOT, stdout: "ignore", stderr: "pipe" },
  );
  const logs: string[] = [];
  const done = readLines(replay.stderr, (l) => logs.push(l));
  await waitFor(() => logs.some((l) => l.includes('"replay listening"')), {
    timeoutMs: 20_000,
    what: "replay listening",
  });
  const bridge = spawn(["bun", "bridge/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      TAPEWIRE_RELAY_OUT: out,
      BRIDGE_PORT: "0",
      BRIDGE_METRICS_PORT: "0",
      DATABASE_URL: db.url,
      BRIDGE_SPOOL_DIR: join(dir, "spool"),
      BRIDGE_BATCH_MS: "20",
    },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    expect(await replay.exited).toBe(0);
    await done;
    const finished = JSON.parse(logs.find((l) => l.includes('"replay finished"'))!);
    expect(finished.frames).toBeGreaterThanOrEqual(TRADES); // the trades (and the relay's Disconnected frame)
    const stored = await waitFor(
      async () => {
        const [row] =
          await db.sql`SELECT count(*)::int AS n, count(DISTINCT trade_id)::int AS d FROM trades WHERE exchange = 3`;
        return row!.n === TRADES ? row : null;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: "the bridge to store the replayed trades" },
    );
    expect(stored).toEqual({ n: TRADES, d: TRADES });
  } finally {
    bridge.kill("SIGTERM");
    await bridge.exited;
  }
}, 90_000);
