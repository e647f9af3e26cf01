// `bun run api`: the Elysia API on API_PORT (default 3000) with the paper matcher running in-process.

import { applyAffinity } from "../lib/affinity.ts";
import { createLogger } from "../lib/log.ts";
import { BUN_MAX_BODY_BYTES } from "./http/limits.ts";
import { createApp, createDeps, loadApiConfig } from "./index.ts";

const log = createLogger({ svc: "api" });
applyAffinity("api", log);
const config = (() => {
  try {
    return loadApiConfig(process.env);
  } catch (error) {
    log.error("bad configuration", { error: error as Error });
    process.exit(2);
  }
})();

const deps = await createDeps(config, log);
// Bodies over 64 KiB are refused with JSON by http/limits.ts before they are read, so Bun's own (empty)
// 413 is turned off.
const app = createApp(deps).listen({
  port: config.port,
  hostname: config.host,
  maxRequestBodySize: BUN_MAX_BODY_BYTES,
});
deps.start();
log.info("api listening", {
  url: `http://${config.host}:${app.server?.port}`,
  docs: "/openapi",
  matcherMs: config.matcherMs,
  publicMarketData: config.publicMarketData,
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("api stopping", { signal });
  await app.stop();
  await deps.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
