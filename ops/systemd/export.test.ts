// bun run export:systemd: one unit per Procfile line, verified by systemd-analyze (it runs offline in a container:
// a deliberately broken copy proves it checks the units, not just their presence).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseProcfile } from "../../scripts/procfile.ts";
import { DEFAULTS, exportSystemd } from "./export.ts";

const ROOT = resolve(import.meta.dir, "../..");
const PROCFILE = readFileSync(join(ROOT, "Procfile"), "utf8");
const out = mkdtempSync(join(tmpdir(), "tw-units-"));
afterAll(() => rm(out, { recursive: true, force: true }));
const bun = Bun.which("bun")!;
const files = exportSystemd(PROCFILE, out, { ...DEFAULTS, bun, workdir: ROOT });
const unit = (name: string) => readFileSync(join(out, `tapewire-${name}.service`), "utf8");

function verify(paths: string[]): { code: number; out: string } {
  const analyze = Bun.which("systemd-analyze");
  if (!analyze) throw new Error("systemd-analyze is missing: apt-get install -y systemd (.ci/run does)");
  const r = Bun.spawnSync([analyze, "verify", "--man=no", ...paths], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: `${r.stdout}${r.stderr}` };
}

test("one unit per Procfile line and a target", () => {
  const names = parseProcfile(PROCFILE).map((e) => `tapewire-${e.name}.service`);
  expect(files).toEqual([...names, "tapewire.target"]);
  const target = readFileSync(join(out, "tapewire.target"), "utf8");
  for (const n of names.filter((n) => n !== "tapewire-sim.service")) expect(target).toContain(n);
  expect(target).not.toContain("tapewire-sim.service"); // the simulator is for development
});

test("restart policy, limits, environment file, and the relay before collectors and bridge", () => {
  for (const e of parseProcfile(PROCFILE)) {
    const u = unit(e.name);
    expect(u).toContain("Restart=always");
    expect(u).toMatch(/^MemoryMax=\d+[MG]$/m);
    expect(u).toContain("LimitNOFILE=65536");
    expect(u).toContain("EnvironmentFile=/etc/tapewire/tapewire.env");
    expect(u).toContain(`ExecStart=${e.command.replace(/^bun /, `${bun} `)}`);
    const afterRelay = /^After=.*tapewire-relay\.service/m.test(u);
    expect({ name: e.name, afterRelay }).toEqual({
      name: e.name,
      afterRelay: e.name.startsWith("collector-") || e.name === "bridge",
    });
  }
  expect(unit("bridge")).toContain("TimeoutStopSec=30"); // time to write pending rows before SIGKILL
});

test("systemd-analyze verify accepts every generated unit, and rejects a broken one", () => {
  const good = verify(files.map((f) => join(out, f)));
  expect(good.out).toBe("");
  expect(good.code).toBe(0);
  const broken = join(out, "broken.service");
  writeFileSync(
    broken,
    unit("relay").replace("Restart=always", "Restart=sometimes").replace(bun, "/nonexistent/bun"),
  );
  const bad = verify([broken]);
  expect(bad.code).not.toBe(0);
  expect(bad.out).toContain("not executable");
});
