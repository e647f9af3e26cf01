// bun collectors/main.ts <kraken|coinbase|binance> [--record FILE] [--replay FILE] [--replay-speed N]
import { parseArgs } from "node:util";
import { createLogger } from "../lib/log.ts";
import type { ExchangeName } from "../schema/frame.ts";
import { startCollector } from "./core/collector.ts";
import { VENUES } from "./venues.ts";

const log = createLogger({ process: "collector" });
const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: { record: { type: "string" }, replay: { type: "string" }, "replay-speed": { type: "string" } },
});
const exchange = positionals[0] as ExchangeName | undefined;
if (!exchange || !(exchange in VENUES)) {
  log.error("usage: bun collectors/main.ts <kraken|coinbase|binance> [--record FILE] [--replay FILE]", {
    got: exchange ?? null,
  });
  process.exit(2);
}

const env = process.env;
const portVar = `COLLECTOR_${exchange.toUpperCase()}_METRICS_PORT`;
const defaultPorts: Record<ExchangeName, number> = { kraken: 9201, coinbase: 9202, binance: 9203 };
const metricsPort = env[portVar] === undefined ? defaultPorts[exchange] : Number(env[portVar]);
if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
  log.error(`${portVar} must be a port number`, { value: env[portVar] });
  process.exit(2);
}
const replaySpeed = values["replay-speed"] === undefined ? 0 : Number(values["replay-speed"]);

const collector = await startCollector({
  exchange,
  factory: VENUES[exchange],
  env,
  relayPath: env.TAPEWIRE_RELAY_IN ?? "run/relay-in.sock",
  metricsPort,
  recordPath: values.record,
  replayPath: values.replay,
  replaySpeed,
  bufferFrames: env.TAPEWIRE_COLLECTOR_BUFFER_FRAMES
    ? Number(env.TAPEWIRE_COLLECTOR_BUFFER_FRAMES)
    : undefined,
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
