// `bun link/main.ts export|import` (Procfile, docs/scaling.md): the relay ⇄ NATS JetStream link, one role per
// process. Settings from the environment (link/config.ts); SIGINT/SIGTERM stop it after in-flight work settles.
import { createLogger } from "../lib/log.ts";
import { linkConfig } from "./config.ts";
import { startExporter } from "./export.ts";
import { startImporter } from "./import.ts";

const role = process.argv[2];
const log = createLogger({ service: `link-${role ?? "?"}`, pid: process.pid });
if (role !== "export" && role !== "import") {
  log.error("usage: bun link/main.ts export|import", { role });
  process.exit(2);
}
const cfg = linkConfig.readOrExit();
const link = role === "export" ? await startExporter(cfg) : await startImporter(cfg);
log.info("link running", { role, nats: cfg.natsUrl, stream: cfg.stream });

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info("shutting down", { signal });
  await link.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
