// The shipped alert rules under Debian's promtool: syntax (check rules) and one unit test per alert (test rules);
// every alert has a unit test and a runbook paragraph in docs/operations.md.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { alertNames, requireTool } from "./prometheus.ts";

const ROOT = join(import.meta.dir, "..");
const RULES = join(ROOT, "ops/prometheus/rules.yml");
const TESTS = join(ROOT, "ops/prometheus/tests.yml");

function promtool(...args: string[]): { code: number; out: string } {
  const r = Bun.spawnSync([requireTool("promtool"), ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: `${r.stdout.toString()}${r.stderr.toString()}` };
}

test("promtool check rules: the rules file is valid", () => {
  const r = promtool("check", "rules", RULES);
  expect(r.out).toContain("SUCCESS");
  expect(r.code).toBe(0);
}, 30_000);

test("promtool test rules: every alert's unit test passes", () => {
  const r = promtool("test", "rules", TESTS);
  expect(r.out).toContain("SUCCESS");
  expect(r.code).toBe(0);
}, 60_000); // 22 rule groups' evaluations take seconds on a busy machine

test("every alert has a unit test and a runbook paragraph; every unit test names a real alert", () => {
  const alerts = alertNames(readFileSync(RULES, "utf8"));
  expect(alerts.length).toBeGreaterThan(15);
  const tested = new Set([...readFileSync(TESTS, "utf8").matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
  const runbook = readFileSync(join(ROOT, "docs/operations.md"), "utf8");
  const headings = new Set([...runbook.matchAll(/^#### (\w+)$/gm)].map((m) => m[1]));
  expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
  expect([...tested].filter((a) => !alerts.includes(a!))).toEqual([]);
  expect(alerts.filter((a) => !headings.has(a))).toEqual([]);
  for (const m of readFileSync(RULES, "utf8").matchAll(/runbook_url: docs\/operations\.md#(\w+)/g))
    expect(headings.has(alerts.find((a) => a.toLowerCase() === m[1]) ?? "")).toBe(true);
});
