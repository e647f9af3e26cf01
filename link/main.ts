// `bun link/main.ts export|import` (Procfile, docs/scaling.md): the relay ⇄ NATS JetStream link, one role per
// process. Settings from the environment (link/config.ts); SIGINT/SIGTERM stop it after in-flight work settles.
import { createLogger } from "../lib/log.ts";
import { serveMetrics } from "../lib/metrics.ts";
import { linkConfig } from "./config.ts";
import { type Exporter, startExporter } from "./export.ts";
import { type Importer, startImporter } from "./import.ts";
import { ExportMetrics, ImportMetrics } from "./metrics.ts";

const role = process.argv[2];
const log = createLogger({ service: `link-${role ?? "?"}`, pid: process.pid });
if (role !== "export" && role !== "import") {
  log.error("usage: bun link/main.ts export|import", { role });
  process.exit(2);
}
const cfg = linkConfig.readOrExit();
const metrics = role === "export" ? new ExportMetrics() : new ImportMetrics();
let link: Exporter | Importer | null = null;
// /metrics, /health, /ready like every process (loopback, or TAPEWIRE_METRICS_TOKEN), served from before the
// link starts; -1 = off, 0 = any free port (logged below).
const metricsPort = role === "export" ? cfg.exportMetricsPort : cfg.importMetricsPort;
const server =
  metricsPort >= 0
    ? serveMetrics(metrics.registry, metricsPort, {
        ready: () => link?.ready() ?? { ready: false, checks: { started: false } },
      })
    : null;
link =
  metrics instanceof ExportMetrics ? await startExporter(cfg, metrics) : await startImporter(cfg, metrics);
log.info("link running", { role, nats: cfg.natsUrl, stream: cfg.stream, metricsPort: server?.port ?? -1 });

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info("shutting down", { signal });
  await link?.close();
  server?.stop(true);
  process.exit(0);
};
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
