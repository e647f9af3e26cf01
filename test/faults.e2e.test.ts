// Issue 10, "Proof, measured": the real processes (simulator, three collectors, relay, bridge on a fresh
// database behind a TCP proxy) under the simulator's load, one fault after another on the same stack
// (scripts/soak-faults.ts): kill -9 of the bridge, of the relay, of the Binance collector; SIGSTOP of the bridge
// for 30 s; Postgres unreachable for 60 s; the bridge's spool on a full tmpfs while Postgres is away. After each,
// the database is compared with the simulator's ledger (every trade each venue published, contiguous ids):
// 0 missing and 0 duplicated for every relay, bridge and database fault; a collector kill may miss only what
// its exchange cannot backfill, each miss covered by a stored trade_gap event (the simulator serves the whole
// recent history, so 0 there too). The bridge keeps little in memory (BRIDGE_MAX_QUEUED_BYTES 1 MiB) so the
// full disk really leaves it nowhere to put rows. About 3.5 minutes.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tmpfs } from "../bridge/tmpfs-fixture.ts";
import { FAULTS, type FaultResult, runFaults } from "../scripts/soak-faults.ts";
import { type SoakStack, startSoakStack } from "../scripts/soak-stack.ts";

const base = mkdtempSync(join(tmpdir(), "tw-faults-"));
const { disk, error: mountError } = Tmpfs.tryMount(join(base, "spool-disk"));
// Mounting needs root (CI here runs as root); elsewhere the full-disk fault is reported as skipped.
if (!disk)
  console.warn(
    `SKIPPING the full-disk fault in test/faults.e2e.test.ts: cannot mount a tmpfs (${mountError})`,
  );

let stack: SoakStack | undefined;
const results = new Map<string, FaultResult>();

beforeAll(async () => {
  stack = await startSoakStack({
    eventsPerSecond: 100,
    full: false,
    tally: false,
    spoolDir: join(disk?.dir ?? base, "spool"),
    env: { bridge: { BRIDGE_MAX_QUEUED_BYTES: String(1 << 20) } },
  });
  const faults = disk ? FAULTS : FAULTS.filter((f) => !f.name.includes("full disk"));
  for (const r of await runFaults(stack, { disk, faults, say: (l) => console.log(l) }))
    results.set(r.name, r);
  console.log(
    "faults vs ledger",
    [...results.values()].map((r) => ({
      fault: r.name,
      expected: r.expected,
      missing: r.missing,
      duplicates: r.duplicates,
      seconds: r.seconds,
    })),
  );
}, 420_000);

afterAll(async () => {
  // Every process's log, for a look after a failure.
  stack?.writeLogs(join(import.meta.dir, "..", ".data", "faults"));
  try {
    await stack?.[Symbol.asyncDispose]();
  } finally {
    disk?.unmount();
    rmSync(base, { recursive: true, force: true });
  }
}, 60_000);

const show = (r: FaultResult | undefined) =>
  r && { missing: r.missing, duplicates: r.duplicates, rowsLost: r.rowsLost, bad: r.bad.slice(0, 5) };

test("before any fault the database holds every ledger trade once (the baseline)", () => {
  const r = results.get("no fault (baseline, 5 s)");
  expect(r?.expected).toBeGreaterThan(500);
  expect(show(r)).toEqual({ missing: 0, duplicates: 0, rowsLost: 0, bad: [] });
});

for (const fault of FAULTS) {
  const collector = fault.name.includes("collector");
  const needsDisk = fault.name.includes("full disk");
  test.skipIf(needsDisk && !disk)(
    collector
      ? `${fault.name}: no duplicate, and nothing missing that no stored gap event reports`
      : `${fault.name}: 0 missing, 0 duplicated`,
    () => {
      const r = results.get(fault.name);
      expect(r?.expected).toBeGreaterThan(100);
      if (collector) {
        expect({ unreported: r?.unreported, duplicates: r?.duplicates }).toEqual({
          unreported: 0,
          duplicates: 0,
        });
        // The restart did leave a gap, reported as data; the simulator still serves every trade of it, so the
        // backfill closes it.
        expect(r?.observed.tradeGapEvents).toBeGreaterThan(0);
        expect(show(r)).toEqual({ missing: 0, duplicates: 0, rowsLost: 0, bad: [] });
      } else {
        expect(show(r)).toEqual({ missing: 0, duplicates: 0, rowsLost: 0, bad: [] });
      }
      if (needsDisk) {
        // The fault really happened: the disk refused the spool, and the writer stopped its feed for it.
        expect(r?.spoolErrors).toBeGreaterThan(0);
        expect(r?.observed.feedPaused).toBe(1);
      }
    },
  );
}

test("no process died but the ones killed on purpose", () => {
  const gone = stack!.processes
    .filter((p) => p.exited)
    .map((p) => `${p.job}: ${JSON.stringify(p.logs.slice(-3))}`);
  expect(gone).toEqual([]);
});
