// bun collectors/main.ts <kraken|coinbase|binance> [--record FILE] [--replay FILE] [--replay-speed N]
import { parseArgs } from "node:util";
import { applyAffinity } from "../lib/affinity.ts";
import { ConfigError } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { isExchangeName } from "../schema/frame.ts";
import { startCollector } from "./core/collector.ts";
import { collectorVars } from "./core/config.ts";
import { VENUES } from "./venues.ts";

const log = createLogger({ process: "collector" });
const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: { record: { type: "string" }, replay: { type: "string" }, "replay-speed": { type: "string" } },
});
const exchange = positionals[0];
if (!isExchangeName(exchange)) {
  log.error("usage: bun collectors/main.ts <kraken|coinbase|binance> [--record FILE] [--replay FILE]", {
    got: exchange ?? null,
  });
  process.exit(2);
}
applyAffinity(`collector-${exchange}`, log);

const env = process.env;
// A bad value exits 78 (EX_CONFIG) with a message naming the variable, before anything starts.
const config = collectorVars(exchange).readOrExit(env);
const replaySpeed = values["replay-speed"] === undefined ? 0 : Number(values["replay-speed"]);
if (!(replaySpeed >= 0)) {
  log.error("--replay-speed must be a number >= 0", { value: values["replay-speed"] });
  process.exit(2);
}

const collector = await startCollector({
  exchange,
  factory: VENUES[exchange],
  env,
  relayPath: config.relayIn,
  natsUrl: config.natsUrl,
  metricsPort: config.metricsPort,
  recordPath: values.record,
  replayPath: values.replay,
  replaySpeed,
  bufferFrames: config.bufferFrames,
  stateDir: config.stateDir,
  backfill: config.backfill,
}).catch((error: unknown) => {
  // The venue's settings are read by its factory: same exit as ours.
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  return process.exit(78);
});

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info("stopping", { signal });
  await collector.stop();
  process.exit(0);
};
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
if (values.replay) {
  await collector.replayed;
  await shutdown("replay_done");
}
