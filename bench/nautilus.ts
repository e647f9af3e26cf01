// `bun run bench:nautilus`: relay → NautilusTrader actor `on_trade_tick` latency at a paced rate (default 10k
// msg/s; receive stamp to the actor's clock) beside a Bun consumer of the same relay in the same run, and the
// data client's decode + translate throughput in frames/s. Needs the trader venv (bun scripts/trader-env.ts).
// BENCH_SECONDS (10), BENCH_RATE (10000). Figures go in BENCHMARKS.md.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connectRelayConsumer } from "../relay/index.ts";
import { connectRelayProducer } from "../relay/producer.ts";
import {
  EXCHANGE_IDS,
  encodeFrame,
  FLAG_TAKER_BUY,
  FRAME_SIZE,
  frameKind,
  KIND_IDS,
} from "../schema/frame.ts";
import { hopLatencyNs, stampTsRecv } from "../schema/stamp.ts";
import { traderEnvVars } from "../scripts/trader-env.ts";

const root = resolve(import.meta.dir, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rate = Number(process.env.BENCH_RATE ?? 10_000);
const python = join(traderEnvVars.read(process.env).venv, "bin", "python");
if (!existsSync(python)) {
  console.error(`no trader venv at ${python}: run \`bun scripts/trader-env.ts\` first`);
  process.exit(2);
}

const pct = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]! / 1000;
const pyEnv = { ...process.env, PYTHONPATH: join(root, "trader"), PYTHONDONTWRITEBYTECODE: "1" };

async function latencyRun(): Promise<{ nautilus: Record<string, number>; bun: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), "tw-bench-"));
  const inPath = join(dir, "in", "r.sock");
  const outPath = join(dir, "out", "r.sock");
  const relay = Bun.spawn(["bun", "relay/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      TAPEWIRE_RELAY_IN: inPath,
      TAPEWIRE_RELAY_OUT: outPath,
      RELAY_METRICS_PORT: "-1",
      TAPEWIRE_JOURNAL_DIR: join(dir, "journal"),
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  try {
    while (!existsSync(outPath)) await Bun.sleep(10); // polling for the socket file, not pacing
    const warmupNs = 1e9;
    const bunSamples: number[] = [];
    let bunSkipUntil = 0;
    const consumer = connectRelayConsumer({
      path: outPath,
      name: "bench-bun",
      filter: { kinds: ["trade"] },
      onFrame(view, offset) {
        if (frameKind(view, offset) !== KIND_IDS.trade) return;
        const ns = hopLatencyNs(view, offset);
        if (performance.now() >= bunSkipUntil) bunSamples.push(ns);
      },
    });
    const py = Bun.spawn([python, "-m", "tapewire_trader.bench", "latency", outPath, String(seconds + 2)], {
      cwd: root,
      env: pyEnv,
      stdout: "pipe",
      stderr: "inherit",
    });
    const reader = py.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    if (!first.includes("ready")) throw new Error(`nautilus bench did not start: ${first}`);
    await Bun.sleep(1500); // the node's start-up (connect, subscribe); not measured
    bunSkipUntil = performance.now() + warmupNs / 1e6;

    const producer = await connectRelayProducer({ path: inPath });
    const perTick = Math.max(1, Math.round(rate / 1000)); // one batch per millisecond
    const buf = new Uint8Array(FRAME_SIZE * perTick);
    const view = new DataView(buf.buffer);
    let seq = 1;
    const end = performance.now() + seconds * 1000;
    let next = performance.now();
    while (performance.now() < end) {
      for (let i = 0; i < perTick; i++) {
        encodeFrame(view, i * FRAME_SIZE, {
          kind: KIND_IDS.trade,
          flags: FLAG_TAKER_BUY,
          exchange: EXCHANGE_IDS.binance,
          instrument: 4,
          seq: seq,
          id: seq,
          price: 4_200_000,
          size: 100_000,
          tsExchange: 0,
          tsRecv: 0,
        });
        stampTsRecv(view, i * FRAME_SIZE);
        seq++;
      }
      producer.send(buf);
      producer.flush();
      next += 1;
      const wait = next - performance.now();
      if (wait > 0) await Bun.sleep(wait); // pacing the producer to the target rate
    }
    await producer.close();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await py.exited;
    consumer.close();
    const nautilus = JSON.parse(text.trim().split("\n").at(-1)!) as Record<string, number>;
    bunSamples.sort((a, b) => a - b);
    const bun = { n: bunSamples.length, p50_us: pct(bunSamples, 0.5), p99_us: pct(bunSamples, 0.99) };
    return { nautilus, bun };
  } finally {
    relay.kill("SIGTERM");
    await relay.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

function decodeRun(frames: number): Record<string, number> {
  const done = Bun.spawnSync([python, "-m", "tapewire_trader.bench", "decode", String(frames)], {
    cwd: root,
    env: pyEnv,
    stdout: "pipe",
    stderr: "inherit",
  });
  return JSON.parse(done.stdout.toString().trim().split("\n").at(-1)!) as Record<string, number>;
}

const { nautilus, bun } = await latencyRun();
const decode = decodeRun(1_000_000);
console.log(`relay → on_trade_tick at ${rate} msg/s for ${seconds} s (1 s warm-up excluded):`);
console.log("| consumer | samples | p50 µs | p99 µs |");
console.log("| --- | --- | --- | --- |");
console.log(
  `| NautilusTrader actor (tapewire data client) | ${nautilus.n} | ${nautilus.p50_us} | ${nautilus.p99_us} |`,
);
console.log(
  `| Bun consumer (relay/client.ts) | ${bun.n} | ${bun.p50_us?.toFixed(1)} | ${bun.p99_us?.toFixed(1)} |`,
);
console.log(
  `data client decode + translate to TradeTick: ${decode.frames_per_s} frames/s (${decode.frames} frames)`,
);
