// The trader's Python environment (trader/): finds Python ≥ 3.12 (NautilusTrader 1.231 needs it), else falls
// back to 3.11 with nautilus_trader 1.221.0, and installs the hash-pinned requirements into a venv kept under
// the project (.data/trader-venv, like the embedded Postgres). Built beside its final place and renamed when
// complete, so a half-installed venv never looks ready; a stamp of (python, requirements) skips up-to-date work.
// `bun scripts/trader-env.ts` (setup, .ci/run) · `ensureTraderEnv()` (bun run dev).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { bool, defineConfig, string } from "../lib/config.ts";

const root = resolve(import.meta.dir, "..");

export const traderEnvVars = defineConfig("trader-env", {
  enabled: bool("TAPEWIRE_TRADER", {
    default: true,
    meaning: "run the NautilusTrader trader (off: no Python environment, no `trader` process)",
  }),
  python: string("TAPEWIRE_PYTHON", {
    default: undefined,
    meaning: "Python interpreter for the trader (default: the newest 3.12+ found, else 3.11)",
  }),
  venv: string("TAPEWIRE_TRADER_VENV", {
    default: join(root, ".data", "trader-venv"),
    defaultText: ".data/trader-venv",
    meaning: "where the trader's virtualenv lives",
  }),
});

export interface PythonFound {
  path: string;
  major: number;
  minor: number;
}

export type TraderEnvResult =
  | { status: "ready"; python: string; venv: string; installed: boolean; fallback: boolean }
  | { status: "off" }
  | { status: "no-python"; message: string };

const REQUIREMENTS = {
  modern: "trader/requirements.txt",
  fallback: "trader/requirements-py311.txt",
} as const;

export const NO_PYTHON_MESSAGE =
  "trader: no Python >= 3.11 found, so the NautilusTrader trader is skipped (everything else runs). Install " +
  "Python 3.12 (`pyenv install 3.12`, or `apt-get install python3.12 python3.12-venv`), or point " +
  "TAPEWIRE_PYTHON at one; TAPEWIRE_TRADER=off silences this.";

function probe(path: string): PythonFound | null {
  try {
    const out = Bun.spawnSync([path, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"], {
      stdout: "pipe",
      stderr: "ignore",
    });
    if (out.exitCode !== 0) return null;
    const [major, minor] = out.stdout.toString().trim().split(" ").map(Number);
    if (!Number.isInteger(major) || !Number.isInteger(minor)) return null;
    return { path, major: major!, minor: minor! };
  } catch {
    return null; // not an executable we can run: not a candidate
  }
}

/** Every interpreter worth trying: the override, PATH names, and pyenv's versions folders. */
export function pythonCandidates(env: Record<string, string | undefined> = process.env): string[] {
  const found: string[] = [];
  for (const name of ["python3.14", "python3.13", "python3.12", "python3.11", "python3"]) {
    const p = Bun.which(name, { PATH: env.PATH ?? "" });
    if (p) found.push(p);
  }
  const roots = [env.PYENV_ROOT, join(env.HOME ?? homedir(), ".pyenv"), "/root/.pyenv"].filter(Boolean);
  for (const r of new Set(roots as string[])) {
    const dir = join(r, "versions");
    if (!existsSync(dir)) continue;
    for (const v of readdirSync(dir)) {
      if (/^3\.\d+(\.\d+)?$/.test(v)) found.push(join(dir, v, "bin", "python3"));
    }
  }
  return [...new Set(found)];
}

/**
 * 3.12 (what requirements.txt is compiled for), else the newest above it, else a 3.11 (the fallback);
 * TAPEWIRE_PYTHON wins if it works.
 */
export function findPython(candidates: string[], override?: string): PythonFound | null {
  if (override) {
    const p = probe(override);
    return p && p.major === 3 && p.minor >= 11 ? p : null;
  }
  const usable = candidates
    .map(probe)
    .filter((p): p is PythonFound => p !== null && p.major === 3 && p.minor >= 11)
    .sort((a, b) => rank(a.minor) - rank(b.minor));
  return usable[0] ?? null;
}

const rank = (minor: number): number => (minor === 12 ? 0 : minor > 12 ? 100 - minor : 1000);

function stampOf(python: PythonFound, requirements: string): string {
  const digest = createHash("sha256")
    .update(readFileSync(join(root, requirements)))
    .digest("hex");
  return `${python.major}.${python.minor} ${python.path} ${digest}\n`;
}

// pip's notes about index locations a machine's pip.conf names but lacks are noise, not progress.
const shown = (line: string): boolean =>
  line.trim() !== "" && !/^WARNING: Location '.*' is ignored/.test(line);

function run(cmd: string[], say: (line: string) => void): Promise<number> {
  const child = Bun.spawn(cmd, { cwd: root, stdout: "pipe", stderr: "pipe", env: { ...process.env } });
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let rest = "";
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const lines = (rest + decoder.decode(value, { stream: true })).split(/\r?\n|\r/);
      rest = lines.pop() ?? "";
      for (const line of lines) if (shown(line)) say(line);
    }
    if (shown(rest)) say(rest);
  };
  return Promise.all([pump(child.stdout), pump(child.stderr), child.exited]).then(([, , code]) => code);
}

export async function ensureTraderEnv(
  opts: { env?: Record<string, string | undefined>; say?: (line: string) => void } = {},
): Promise<TraderEnvResult> {
  const env = opts.env ?? process.env;
  const say = opts.say ?? ((line: string) => console.log(`[trader-env] ${line}`));
  const cfg = traderEnvVars.read(env);
  if (!cfg.enabled) return { status: "off" };
  const python = findPython(pythonCandidates(env), cfg.python);
  if (!python) return { status: "no-python", message: NO_PYTHON_MESSAGE };
  const fallback = python.minor < 12;
  const requirements = fallback ? REQUIREMENTS.fallback : REQUIREMENTS.modern;
  if (fallback) {
    say(
      `no Python >= 3.12 found: falling back to Python ${python.major}.${python.minor} (${python.path}) with ` +
        "nautilus_trader 1.221.0, the last release with 3.11 wheels",
    );
  }
  const venv = cfg.venv;
  const stamp = stampOf(python, requirements);
  const stampPath = join(venv, ".tapewire-stamp");
  const venvPython = join(venv, "bin", "python");
  if (existsSync(stampPath) && readFileSync(stampPath, "utf8") === stamp && existsSync(venvPython)) {
    return { status: "ready", python: venvPython, venv, installed: false, fallback };
  }
  const partial = `${venv}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(join(venv, ".."), { recursive: true });
  const started = performance.now();
  say(`creating ${venv} with Python ${python.major}.${python.minor} (${python.path}) from ${requirements}`);
  if ((await run([python.path, "-m", "venv", partial], say)) !== 0)
    throw new Error(`python -m venv ${partial} failed`);
  const pip = [join(partial, "bin", "python"), "-m", "pip", "install", "--disable-pip-version-check"];
  const code = await run(
    [...pip, "--require-hashes", "--no-deps", "--progress-bar", "off", "-r", requirements],
    say,
  );
  if (code !== 0)
    throw new Error(`pip install -r ${requirements} failed (exit ${code}); see the lines above`);
  writeFileSync(join(partial, ".tapewire-stamp"), stamp);
  rmSync(venv, { recursive: true, force: true });
  renameSync(partial, venv);
  say(`trader environment ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { status: "ready", python: venvPython, venv, installed: true, fallback };
}

if (import.meta.main) {
  const result = await ensureTraderEnv();
  if (result.status === "off") console.log("[trader-env] TAPEWIRE_TRADER=off: no trader environment");
  else if (result.status === "no-python") {
    console.error(`[trader-env] ${result.message}`);
    process.exit(3);
  } else if (!result.installed) console.log(`[trader-env] up to date: ${result.venv}`);
}
