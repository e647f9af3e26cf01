// The archiver process's start-up: DuckDB must write and read back Parquet before the first cycle.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { spawn } from "bun";

const ROOT = join(import.meta.dir, "..");

test("a DuckDB that cannot write Parquet stops start-up with its reason, before any export", async () => {
  const proc = spawn(["bun", "archiver/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      // Nowhere to write the check's file; the database is never reached (the check comes first).
      TMPDIR: "/nonexistent/tapewire-archiver-check",
      DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
      ARCHIVER_METRICS_PORT: "0",
      ARCHIVE_DIR: "/nonexistent/tapewire-archive",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  expect(code).toBe(1);
  const failed = `${out}${err}`
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .find((l) => l.msg === "DuckDB self-check failed: the archiver cannot write Parquet");
  expect(failed?.error?.message ?? JSON.stringify(failed?.error)).toContain("nonexistent");
});
