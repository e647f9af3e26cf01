// The archiver process's start-up: DuckDB must write and read back Parquet before the first cycle.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { runToExit } from "../lib/testing.ts";

const ROOT = join(import.meta.dir, "..");

test("a DuckDB that cannot write Parquet stops start-up with its reason, before any export", async () => {
  const { code, logs } = await runToExit(["bun", "archiver/main.ts"], {
    cwd: ROOT,
    env: {
      // Nowhere to write the check's file; the database is never reached (the check comes first).
      TMPDIR: "/nonexistent/tapewire-archiver-check",
      DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
      ARCHIVER_METRICS_PORT: "0",
      ARCHIVE_DIR: "/nonexistent/tapewire-archive",
    },
  });
  expect(code).toBe(1);
  const failed = logs.find((l) => l.msg === "DuckDB self-check failed: the archiver cannot write Parquet") as
    | { error?: { message?: string } }
    | undefined;
  expect(failed?.error?.message ?? JSON.stringify(failed?.error)).toContain("nonexistent");
});
