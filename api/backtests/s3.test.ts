// Backtests over an archive on S3 (ARCHIVE_DIR=s3://…), against moto's standalone server (archiver/s3-server,
// .data/s3-venv, as archiver/s3-store.test.ts): the same archive exported to a folder and uploaded under the
// same paths; one API reads the folder, another (same database) the bucket. The S3 run leases its files from
// the store (fetched into ARCHIVE_CACHE_DIR) and the Python side reads the lease's folder; the lease is gone
// when the run ends, done or failed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveMoto, type Moto, startMoto } from "../../archiver/s3-testing.ts";
import { waitFor } from "../../lib/testing.ts";
import { connectRelayProducer } from "../../relay/index.ts";
import { startRelayProcess } from "../../relay/testing.ts";
import { Exchange } from "../../schema/frame.ts";
import { traderEnvVars } from "../../scripts/trader-env.ts";
import { newUser, startTestApi, type TestApi } from "../test/harness.ts";
import { archiveFromRelay, makerBacktest, makerScenario } from "./archive.testkit.ts";

const haveVenv = existsSync(join(traderEnvVars.read(process.env).venv, "bin", "python"));
if (!haveMoto && process.env.CI) throw new Error(".data/s3-venv is missing: .ci/run must create it");
if (!haveMoto || !haveVenv)
  console.warn("SKIPPING backtests on S3: needs .data/s3-venv and the trader's venv");

const BUCKET = "tapewire-backtests";
const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const root = mkdtempSync(join(tmpdir(), "tw-bt-s3-"));
const cacheDir = join(root, "cache");
let moto: Moto | undefined;
let relay: Awaited<ReturnType<typeof startRelayProcess>>;
let local: TestApi;
let s3: TestApi;
let token: string;
let manifest: { path: string }[];

const body = makerBacktest(T0);

const s3Env = (endpoint: string, extra: Record<string, string> = {}) => ({
  ARCHIVE_DIR: `s3://${BUCKET}/archive`,
  ARCHIVE_CACHE_DIR: cacheDir,
  ARCHIVE_S3_ENDPOINT: endpoint,
  ARCHIVE_S3_REGION: "us-east-1",
  S3_ACCESS_KEY_ID: "test",
  S3_SECRET_ACCESS_KEY: "test",
  ...extra,
});
let endpoint: string;

beforeAll(async () => {
  if (!haveMoto || !haveVenv) return;
  moto = await startMoto(BUCKET);
  endpoint = moto.endpoint;
  relay = await startRelayProcess({ dir: join(root, "relay") });
  local = await startTestApi({ ARCHIVE_DIR: join(root, "archive") });
  token = (await newUser(local, "s3-backtester")).token;
  const { bytes, lastSeq } = makerScenario(T0);
  const producer = await connectRelayProducer({ path: relay.inPath });
  producer.send(bytes);
  await producer.drained();
  manifest = await archiveFromRelay({
    sql: local.db.sql,
    databaseUrl: local.db.url,
    relayOut: relay.outPath,
    until: { [Exchange.Binance]: lastSeq },
    root: join(root, "archive"),
    now: new Date(T0 + 3 * 3_600_000),
  });
  // The same files in the bucket under the manifest's paths (what the archiver's S3 store uploads).
  const client = new Bun.S3Client({ bucket: BUCKET, endpoint, accessKeyId: "test", secretAccessKey: "test" });
  for (const m of manifest)
    await client.file(`archive/${m.path}`).write(readFileSync(join(root, "archive", m.path)));
  s3 = await startTestApi(s3Env(endpoint), local.db);
}, 120_000);

afterAll(async () => {
  await s3?.close();
  await local?.close();
  await relay?.[Symbol.asyncDispose]();
  moto?.stop();
  rmSync(root, { recursive: true, force: true });
});

const leases = () => {
  try {
    return readdirSync(join(cacheDir, ".leases"));
  } catch {
    return []; // no lease was ever taken
  }
};

async function runOn(api: TestApi) {
  const r = await api.call("POST", "/api/backtests", { token, body });
  expect(r.status).toBe(202);
  await api.deps.backtestRunner.idle();
  return (await api.call("GET", `/api/backtests/${r.body.id}`, { token })).body;
}

/** A run's result without what differs between two runs of it (ids, wall-clock times). */
function result(run: Record<string, unknown>) {
  const strip = (rows: unknown) =>
    (rows as Record<string, unknown>[]).map(({ id: _i, runId: _r, ...rest }) => rest);
  const { stats } = run as { stats: Record<string, unknown> };
  return {
    status: run.status,
    error: run.error,
    data: run.data,
    stats,
    fills: strip(run.fills),
    orders: strip(run.orders),
    positions: strip(run.positions),
    equity: run.equity,
  };
}

describe.skipIf(!haveMoto || !haveVenv)("a backtest over an archive on S3 (moto server)", () => {
  test("gives the same result as over the same archive in a folder, and its lease is gone after", async () => {
    expect(manifest.length).toBeGreaterThan(0);
    const onDisk = await runOn(local);
    expect(onDisk.status).toBe("done");
    expect(onDisk.stats.fills).toBe(3);
    const onS3 = await runOn(s3);
    expect(onS3.error).toBeNull();
    expect(result(onS3)).toEqual(result(onDisk));
    expect(onS3.data.files.length).toBeGreaterThan(0);
    // The run fetched its files into the cache (checked against the manifest), and released its lease.
    for (const p of onS3.data.files as string[]) expect(existsSync(join(cacheDir, p))).toBe(true);
    expect(leases()).toEqual([]);
  }, 240_000);

  test("a run that fails, or is stopped, releases its lease; the Python side saw the leased files", async () => {
    // A stand-in for the venv's python: lists what its --archive holds, then fails (or waits to be stopped).
    const venv = join(root, "fake-venv");
    mkdirSync(join(venv, "bin"), { recursive: true });
    const seen = join(root, "seen.txt");
    const script = (tail: string) =>
      `#!/bin/sh\nwhile [ "$1" != "--archive" ]; do shift; done\n(cd "$2" && find . -name '*.parquet' | sort) > ${seen}\n${tail}\n`;
    const python = join(venv, "bin", "python");
    writeFileSync(python, script('echo "backtest: made to fail" >&2; exit 1'));
    chmodSync(python, 0o755);
    const failing = await startTestApi(s3Env(endpoint, { TAPEWIRE_TRADER_VENV: venv }), local.db);
    try {
      const run = await runOn(failing);
      expect(run).toMatchObject({ status: "failed", error: "backtest: made to fail" });
      const listed = readFileSync(seen, "utf8").trim().split("\n");
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.every((l) => l.includes("exchange=binance"))).toBe(true);
      expect(leases()).toEqual([]);

      writeFileSync(python, script("exec sleep 60"));
      rmSync(seen, { force: true });
      const r = await failing.call("POST", "/api/backtests", { token, body });
      expect(r.status).toBe(202);
      await waitFor(() => existsSync(seen), { timeoutMs: 30_000 });
      expect(leases()).toHaveLength(1); // held while it runs
      const stopping = performance.now();
      await failing.deps.backtestRunner.stop();
      expect(performance.now() - stopping).toBeLessThan(20_000);
      expect(leases()).toEqual([]);
    } finally {
      await failing.close();
    }
  }, 120_000);
});
