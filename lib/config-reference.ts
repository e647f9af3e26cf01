// docs/configuration.md, generated from the registry lib/config.ts keeps: one table per process, one row per
// variable, so the reference is exactly what the processes read. A generator imports every process's config
// module (which registers its variables) and writes renderConfigReference(); CI compares the file with it.
import { type RegisteredVar, registeredVariables } from "./config.ts";

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

export function renderConfigReference(vars: readonly RegisteredVar[] = registeredVariables()): string {
  const byProcess = new Map<string, RegisteredVar[]>();
  for (const v of vars) byProcess.set(v.process, [...(byProcess.get(v.process) ?? []), v]);
  const lines = [
    "# Configuration reference",
    "",
    "Generated from the declarations in each process's config module (lib/config.ts); do not edit by hand.",
    "An unset or empty variable takes its default; a bad value stops the process at start-up naming the",
    "variable and what was expected.",
  ];
  for (const [process, rows] of [...byProcess].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(
      "",
      `## ${process}`,
      "",
      "| variable | default | meaning | accepted values |",
      "| --- | --- | --- | --- |",
    );
    for (const v of [...rows].sort((a, b) => a.name.localeCompare(b.name))) {
      lines.push(`| \`${v.name}\` | ${cell(v.defaultText)} | ${cell(v.meaning)} | ${cell(v.expected)} |`);
    }
  }
  return `${lines.join("\n")}\n`;
}
