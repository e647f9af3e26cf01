// The short soak (issue 14): `bun run soak` for SOAK_MINUTES=5 (override with SOAK_MINUTES), with the same
// faults and checks as the hour-long run, but a bounded RSS growth instead of its slope (below). Warm-up is the
// first minute (SOAK_WARMUP_S overrides): its samples are left out of the RSS and the descriptor baselines. Outputs land in .data/soak-ci (soak.csv,
// soak-rss.svg/.png, soak.json) for a look after a failure.
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runSoak, type SoakResult } from "../scripts/soak.ts";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 5);
const WARMUP_S = Number(process.env.SOAK_WARMUP_S ?? 60);
const OUT = join(import.meta.dir, "..", ".data", "soak-ci");
const JOBS = [
  "api",
  "archiver",
  "bridge",
  "collector-binance",
  "collector-coinbase",
  "collector-kraken",
  "relay",
  "sim",
];
// On in the README's test command (issue 14: "the 5-minute soak runs in .ci/run"). TAPEWIRE_SOAK_TEST=0 skips it
// for a quick local run. (It once caught the bridge dying in a database cut: bridge/sink/postgres-cut.test.ts.)
const enabled = process.env.TAPEWIRE_SOAK_TEST !== "0";
if (!enabled) console.warn("SKIPPING test/soak.e2e.test.ts: TAPEWIRE_SOAK_TEST=0 (the 5-minute soak)");
let r: SoakResult;

beforeAll(
  async () => {
    if (!enabled) return;
    r = await runSoak({ minutes: MINUTES, outDir: OUT, warmupS: WARMUP_S, say: () => {} });
  },
  (MINUTES * 60 + 120) * 1000,
);

test.skipIf(!enabled)(
  "every fault of the plan ran at a few thousand messages a second; the slow browser was cut",
  () => {
    expect(r.faults.map((f) => f.replace(/^\d+s /, ""))).toEqual(
      expect.arrayContaining([
        "kraken disconnect",
        "kraken corrupt-checksum BTC/USD",
        "coinbase stall market_trades 5 s",
        "binance disconnect",
        "slow browser client",
        "database cut",
        "database restored",
      ]),
    );
    expect(r.slowClientsClosed).toBeGreaterThanOrEqual(1);
    expect(r.simMessagesPerS).toBeGreaterThan(1000);
    expect(r.processes.map((p) => p.job).sort()).toEqual(JOBS);
  },
);

test.skipIf(!enabled)(
  "0 trades lost or doubled: the database holds every relayed trade and every ledger id",
  () => {
    expect(r.relayTrades).toBeGreaterThan(10_000);
    expect({
      lost: r.lost,
      duplicates: r.duplicates,
      stored: r.storedTrades,
      ledgerMissing: r.ledgerMissing,
    }).toEqual({
      lost: 0,
      duplicates: 0,
      stored: r.relayTrades,
      ledgerMissing: 0,
    });
  },
);

test.skipIf(!enabled)("descriptors and sockets of every process are where they were after warm-up", () => {
  const moved = r.processes.filter((p) => p.problems.some((x) => /^(descriptors|sockets) /.test(x)));
  expect(moved.map((p) => [p.job, p.problems])).toEqual([]);
});

// Five minutes are too short for the hour-long run's slope bar (< 1 MB per 10 min): collectors' RSS settles only
// after ~5 minutes and a 20 s database cut swings the bridge by tens of MB either way. The short run bounds the
// growth instead, which still fails on a leak of a buffer per message or per client; `bun run soak` (an hour)
// applies the slope. The simulator is not checked: it keeps up to SIM_HISTORY_LIMIT trades per book on purpose.
const MAX_GROWTH_MB = 32;
test.skipIf(!enabled)(
  `every checked process's RSS grows < ${MAX_GROWTH_MB} MB after the first ${WARMUP_S} s`,
  () => {
    const growing = r.processes.filter((p) => p.job !== "sim" && p.rssEndMb - p.rssStartMb >= MAX_GROWTH_MB);
    expect(
      growing.map((p) => `${p.job}: ${p.rssStartMb} → ${p.rssEndMb} MB, ${p.rssSlopeMbPer10Min} MB/10 min`),
    ).toEqual([]);
  },
);
