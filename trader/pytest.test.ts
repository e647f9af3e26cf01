// Runs the trader's Python suite (pytest) and lint (ruff) inside `bun test`, so the README's one test command
// covers it. The venv comes from `bun scripts/trader-env.ts` (.ci/run creates it): missing, it is a loud skip
// on a laptop and a failure under CI. pytest's exit 5 (collected nothing) is a failure: the suite exists.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { traderEnvVars } from "../scripts/trader-env.ts";

const root = resolve(import.meta.dir, "..");
const cfg = traderEnvVars.read(process.env);
const python = join(cfg.venv, "bin", "python");
const haveVenv = existsSync(python);
const inCi = process.env.CI === "true" || process.env.CI === "1";

const PYTEST_NOTHING_COLLECTED = 5;

function runPython(args: string[], timeoutMs: number) {
  const done = Bun.spawnSync([python, ...args], {
    cwd: join(root, "trader"),
    // No __pycache__ in the work tree; pytest's own cache is off in pyproject.toml.
    env: {
      ...process.env,
      PYTHONDONTWRITEBYTECODE: "1",
      NO_COLOR: "1",
      HYPOTHESIS_STORAGE_DIRECTORY: join(tmpdir(), "tapewire-hypothesis"),
    },
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutMs,
  });
  return { code: done.exitCode, out: `${done.stdout.toString()}${done.stderr.toString()}` };
}

if (!cfg.enabled) {
  test.skip("trader pytest suite (TAPEWIRE_TRADER=off)", () => {});
} else if (!haveVenv) {
  const why = `trader venv missing at ${cfg.venv}: run \`bun scripts/trader-env.ts\` (Python >= 3.11 needed)`;
  if (inCi) {
    test("trader Python environment exists (CI)", () => {
      throw new Error(why);
    });
  } else {
    console.warn(`\n*** SKIPPING the trader's pytest suite: ${why} ***\n`);
    test.skip("trader pytest suite (no venv)", () => {});
  }
} else {
  describe("trader (Python)", () => {
    test(
      "pytest",
      () => {
        const { code, out } = runPython(["-m", "pytest", "-p", "no:cacheprovider"], 900_000);
        // The closing lines ("N passed in …") for the log; failures in full.
        console.log(code === 0 ? out.trim().split("\n").slice(-3).join("\n") : out);
        if (code === PYTEST_NOTHING_COLLECTED) throw new Error("pytest collected no tests in trader/tests");
        expect(code).toBe(0);
      },
      { timeout: 900_000 },
    );

    test(
      "ruff check and format",
      () => {
        const lint = runPython(["-m", "ruff", "check", "--no-cache", "."], 60_000);
        if (lint.code !== 0) console.log(lint.out);
        expect(lint.code).toBe(0);
        const format = runPython(["-m", "ruff", "format", "--no-cache", "--check", "."], 60_000);
        if (format.code !== 0) console.log(format.out);
        expect(format.code).toBe(0);
      },
      { timeout: 120_000 },
    );
  });
}
