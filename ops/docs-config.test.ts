// docs/configuration.md is generated (bun run docs:config) from the declarations the processes read, so it
// cannot drift: this fails when the committed file differs, or when a module declaring variables is not part of
// the generator's list.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { CONFIG_MODULES, DOC, ROOT } from "./docs-config.ts";

test("docs/configuration.md is what bun run docs:config writes", async () => {
  const committed = readFileSync(DOC, "utf8");
  // In a fresh process: under `bun test` every test file shares one module registry, and the configs that other
  // test files declare (lib/config.test.ts's own processes) would land in the rendering.
  const run = Bun.spawnSync(
    [
      "bun",
      "-e",
      `console.log(await (await import(${JSON.stringify(join(ROOT, "ops/docs-config.ts"))})).renderConfigDoc())`,
    ],
    { cwd: ROOT },
  );
  if (run.exitCode !== 0) throw new Error(run.stderr.toString());
  const fresh = run.stdout.toString().replace(/\n$/, "");
  if (committed !== fresh) throw new Error("docs/configuration.md is stale: run `bun run docs:config`");
  expect(committed).toContain("## bridge");
  expect(committed).toContain("`BRIDGE_MAX_TOTAL_BUFFERED_BYTES`");
  expect(committed).toContain("`TAPEWIRE_METRICS_TOKEN`");
});

test("every module that declares configuration is read by the generator", () => {
  const declaring: string[] = [];
  const glob = new Bun.Glob("**/*.ts");
  for (const file of glob.scanSync({ cwd: ROOT, onlyFiles: true })) {
    if (/(^|\/)(node_modules|ui|\.data)\//.test(file) || file.endsWith(".test.ts") || file.startsWith("ops/"))
      continue;
    const text = readFileSync(join(ROOT, file), "utf8");
    if (/from "[./]*\/?lib\/config\.ts"|from "\.\/config\.ts"/.test(text) && /\bdefineConfig\(/.test(text)) {
      if (file !== "lib/config.ts") declaring.push(relative(ROOT, join(ROOT, file)));
    }
  }
  expect(declaring.sort()).toEqual([...CONFIG_MODULES].sort());
});
