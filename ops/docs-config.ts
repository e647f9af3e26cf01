// `bun run docs:config`: docs/configuration.md from the declarations lib/config.ts registers. It imports every
// module that declares variables (CONFIG_MODULES; ops/docs-config.test.ts fails when a declaring module is
// missing from the list, or when the committed doc differs from what this renders).
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { renderConfigReference } from "../lib/config-reference.ts";
import { EXCHANGES } from "../schema/frame.ts";

export const ROOT = resolve(import.meta.dir, "..");
export const DOC = join(ROOT, "docs/configuration.md");

/** Every module that calls defineConfig (paths from the repository root). */
export const CONFIG_MODULES = [
  "api/analytics/service.ts",
  "api/backtests/config.ts",
  "api/config.ts",
  "archiver/config.ts",
  "bridge/config.ts",
  "collectors/binance/config.ts",
  "collectors/coinbase/config.ts",
  "collectors/core/config.ts",
  "collectors/kraken/config.ts",
  "lib/metrics.ts",
  "link/config.ts",
  "relay/config.ts",
  "schema/db/migrate.ts",
  "scripts/trader-env.ts",
  "sim/config.ts",
  "trader/recorder/config.ts",
];

export async function renderConfigDoc(): Promise<string> {
  for (const m of CONFIG_MODULES) await import(join(ROOT, m));
  // The collectors declare their shared variables per exchange, when a process is built for one.
  const { collectorVars } = await import(join(ROOT, "collectors/core/config.ts"));
  for (const exchange of EXCHANGES) collectorVars(exchange);
  return renderConfigReference();
}

if (import.meta.main) {
  writeFileSync(DOC, await renderConfigDoc());
  console.log(`wrote ${DOC}`);
}
