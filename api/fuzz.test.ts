// The OpenAPI document is valid (openapi-spec-validator) and true (schemathesis, every check, every route
// and parameter with generated and hostile values): no 5xx, no undocumented status, no schema drift. The
// API runs as `bun api/main.ts` on a free port over a fresh database. The Python tools live in the venv
// .ci/run creates (tools/fuzz/requirements.txt); without it this test is skipped loudly, except in CI.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FreshDatabase, freshDatabase, waitFor } from "../lib/testing.ts";
import { TEST_JWT_SECRET, TEST_REDIS_URL } from "./test/harness.ts";

const ROOT = join(import.meta.dir, "..");
const VENV = process.env.TAPEWIRE_FUZZ_VENV ?? join(ROOT, ".data", "fuzz-venv");
const BIN = join(VENV, "bin");
const haveTools = existsSync(join(BIN, "schemathesis")) && existsSync(join(BIN, "openapi-spec-validator"));
/** Time budget of the schemathesis run (seconds); the whole test stays well under 3 minutes. */
const MAX_TIME_S = Number(process.env.TAPEWIRE_FUZZ_MAX_TIME_S ?? 75);

if (!haveTools) {
  const message = `\n*** api/fuzz.test.ts: ${VENV} is missing: the OpenAPI fuzz did NOT run. Create it as .ci/run does:\n***   python3 -m venv ${VENV} && ${BIN}/pip install --require-hashes -r tools/fuzz/requirements.txt\n`;
  if (process.env.CI) throw new Error(message);
  console.warn(message);
}

let db: FreshDatabase;
let api: ReturnType<typeof Bun.spawn> | undefined;
let base = "";
const apiLog: string[] = [];

beforeAll(async () => {
  if (!haveTools) return;
  db = await freshDatabase({ prefix: "tw_fuzz" });
  api = Bun.spawn(["bun", "api/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      API_PORT: "0",
      API_HOST: "127.0.0.1",
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      API_REDIS_PREFIX: `twfuzz:${crypto.randomUUID().slice(0, 8)}:`,
      JWT_SECRET: TEST_JWT_SECRET,
      API_ARGON2_MEMORY_KIB: "1024",
      API_ARGON2_TIME_COST: "1",
      // The fuzzer registers and logs in from one address: let it reach the handlers, not only the limiter.
      API_LOGIN_MAX_PER_IP: "100000",
      API_LOGIN_MAX_PER_PAIR: "100000",
      API_LOGIN_MAX_PER_ACCOUNT: "100000",
      API_MATCHER_MS: "0",
      API_UI_DIR: "/nonexistent",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  void collect(api.stderr as ReadableStream<Uint8Array>);
  const line = await waitFor(() => apiLog.find((l) => l.includes('"api listening"')), {
    what: "the API to listen",
    timeoutMs: 20_000,
  });
  base = (JSON.parse(line) as { url: string }).url;
});

afterAll(async () => {
  api?.kill();
  await api?.exited;
  await db?.drop();
});

async function collect(stream: ReadableStream<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const lines = (rest + decoder.decode(value)).split("\n");
    rest = lines.pop() ?? "";
    apiLog.push(...lines);
  }
}

async function run(cmd: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(cmd, {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const timer = setTimeout(() => proc.kill(), timeoutMs);
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code: await proc.exited, out: out + err };
}

test.skipIf(!haveTools)(
  "the OpenAPI document is valid OpenAPI",
  async () => {
    const spec = await fetch(`${base}/openapi/json`).then((r) => r.text());
    const file = join(tmpdir(), `tapewire-openapi-${process.pid}.json`);
    await Bun.write(file, spec);
    const { code, out } = await run([join(BIN, "openapi-spec-validator"), file], 60_000);
    expect(out).toContain("OK");
    expect(code).toBe(0);
  },
  90_000,
);

test.skipIf(!haveTools)(
  "schemathesis, all checks: no 5xx, every status and body as documented",
  async () => {
    const { code, out } = await run(
      [
        join(BIN, "schemathesis"),
        "--config-file",
        join(ROOT, "tools", "fuzz", "schemathesis.toml"),
        "--no-color",
        "run",
        `${base}/openapi/json`,
        "--checks",
        "all",
        "--max-time",
        String(MAX_TIME_S),
        "--workers",
        "2",
        "--seed",
        "20261201",
        "--suppress-health-check",
        "too_slow,filter_too_much",
      ],
      (MAX_TIME_S + 60) * 1000,
    );
    const report = join(tmpdir(), `tapewire-schemathesis-${process.pid}.txt`);
    await Bun.write(report, out);
    if (code !== 0) console.error(`${out.slice(-12_000)}\n(full schemathesis output: ${report})`);
    const serverErrors = apiLog.filter((l) => l.includes('"level":"error"'));
    expect(serverErrors).toEqual([]);
    expect(code).toBe(0);
  },
  (MAX_TIME_S + 90) * 1000,
);
