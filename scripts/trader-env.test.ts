import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensureTraderEnv,
  findPython,
  NO_PYTHON_MESSAGE,
  pythonCandidates,
  traderEnvVars,
} from "./trader-env.ts";

const dir = mkdtempSync(join(tmpdir(), "trader-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in interpreter that answers the version probe like `python -c` would. */
function fakePython(name: string, version: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho ${version}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe("findPython", () => {
  test("prefers 3.12 (what requirements.txt is compiled for), then newer, then the 3.11 fallback", () => {
    const p311 = fakePython("p311", "3 11");
    const p312 = fakePython("p312", "3 12");
    const p313 = fakePython("p313", "3 13");
    const p310 = fakePython("p310", "3 10");
    expect(findPython([p311, p313, p312, p310])?.path).toBe(p312);
    expect(findPython([p311, p313, p310])?.path).toBe(p313);
    expect(findPython([p310, p311])?.path).toBe(p311);
    expect(findPython([p310, join(dir, "missing")])).toBeNull();
  });

  test("TAPEWIRE_PYTHON wins when it works, and is refused when too old", () => {
    const p313 = fakePython("o313", "3 13");
    const p312 = fakePython("o312", "3 12");
    expect(findPython([p312], p313)?.path).toBe(p313);
    expect(findPython([p312], fakePython("o39", "3 9"))).toBeNull();
  });

  test("pyenv's versions folder is searched", () => {
    const pyenv = join(dir, "pyenv");
    mkdirSync(join(pyenv, "versions", "3.12.1", "bin"), { recursive: true });
    const candidates = pythonCandidates({ PATH: "", PYENV_ROOT: pyenv, HOME: dir });
    expect(candidates).toContain(join(pyenv, "versions", "3.12.1", "bin", "python3"));
  });
});

describe("ensureTraderEnv", () => {
  test("TAPEWIRE_TRADER=off skips it", async () => {
    expect(await ensureTraderEnv({ env: { TAPEWIRE_TRADER: "off" }, say: () => {} })).toEqual({
      status: "off",
    });
  });

  test("with no usable Python it says once what to install", async () => {
    const lines: string[] = [];
    const result = await ensureTraderEnv({
      env: { PATH: "", HOME: dir, PYENV_ROOT: join(dir, "none"), TAPEWIRE_PYTHON: fakePython("old", "3 8") },
      say: (l) => lines.push(l),
    });
    expect(result).toEqual({ status: "no-python", message: NO_PYTHON_MESSAGE });
    expect(NO_PYTHON_MESSAGE).toContain("pyenv install 3.12");
    expect(lines).toEqual([]);
  });

  const venv = traderEnvVars.read(process.env).venv;
  const stamp = join(venv, ".tapewire-stamp");
  test.skipIf(!existsSync(stamp))("an up-to-date venv is not rebuilt", async () => {
    // The interpreter the stamp names: never a rebuild from a different pick on this machine.
    const stamped = readFileSync(stamp, "utf8").split(" ")[1]!;
    const lines: string[] = [];
    const result = await ensureTraderEnv({
      env: { ...process.env, TAPEWIRE_PYTHON: stamped },
      say: (l) => lines.push(l),
    });
    expect(result.status).toBe("ready");
    if (result.status === "ready") expect(result.installed).toBe(false);
    expect(lines.filter((l) => l.startsWith("creating"))).toEqual([]);
  });
});
