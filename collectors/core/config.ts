// The settings every collector process reads, whatever its venue (lib/config.ts: read once, frozen, a bad
// value fails fast naming the variable). The venue's own settings are in <venue>/config.ts.
import { bool, defineConfig, type Env, int, port, string, url } from "../../lib/config.ts";
import type { ExchangeName } from "../../schema/frame.ts";

const METRICS_PORTS: Record<ExchangeName, number> = { kraken: 9201, coinbase: 9202, binance: 9203 };

export const collectorVars = (exchange: ExchangeName) =>
  defineConfig(`collector-${exchange}`, {
    relayIn: string("TAPEWIRE_RELAY_IN", { default: "run/relay-in.sock", meaning: "relay ingest socket" }),
    natsUrl: url("TAPEWIRE_COLLECTOR_NATS_URL", {
      default: undefined,
      defaultText: "unset (the relay socket)",
      protocols: ["nats:", "tls:"],
      meaning:
        "publish frames straight to this NATS JetStream instead of the relay socket (link/README.md; stream and subjects from TAPEWIRE_LINK_*)",
    }),
    bufferFrames: int("TAPEWIRE_COLLECTOR_BUFFER_FRAMES", {
      default: 262_144,
      min: 1,
      max: 64 * 1024 * 1024,
      meaning: "frames kept while the relay is away (beyond: dropped, counted, seen as a gap)",
    }),
    stateDir: string("TAPEWIRE_COLLECTOR_STATE_DIR", {
      default: undefined,
      defaultText: "unset (not kept)",
      meaning:
        "where the last trade id per symbol is kept across restarts, so the backfill fills what was missed",
    }),
    backfill: bool("TAPEWIRE_COLLECTOR_BACKFILL", {
      default: true,
      meaning: "fill trade-id gaps from the exchange's public REST trade history",
    }),
    metricsPort: port(`COLLECTOR_${exchange.toUpperCase()}_METRICS_PORT`, {
      default: METRICS_PORTS[exchange],
      meaning: "Prometheus /metrics",
    }),
  });

export type CollectorConfig = ReturnType<ReturnType<typeof collectorVars>["read"]>;

export const readCollectorConfig = (exchange: ExchangeName, env: Env): CollectorConfig =>
  collectorVars(exchange).read(env);
