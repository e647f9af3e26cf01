// Link settings (relay ⇄ NATS JetStream), declared once with lib/config.ts and read once at start-up; a bad
// value stops the process naming the variable (STYLE.md habit 7). Both roles read the same declarations.
import {
  type ConfigOf,
  defineConfig,
  duration,
  type Env,
  int,
  list,
  port,
  string,
  url,
} from "../lib/config.ts";
import { isExchangeName } from "../schema/frame.ts";

export const linkConfig = defineConfig("link", {
  natsUrl: url("TAPEWIRE_NATS_URL", {
    default: "nats://127.0.0.1:4222",
    protocols: ["nats:", "tls:"],
    meaning: "the NATS server (comma-free single URL; the client reconnects to it forever)",
  }),
  stream: string("TAPEWIRE_LINK_STREAM", {
    default: "TAPEWIRE",
    pattern: /^[A-Za-z0-9_-]{1,64}$/,
    meaning: "the JetStream stream holding the tape (created by the exporter if missing)",
  }),
  subjectPrefix: string("TAPEWIRE_LINK_SUBJECT", {
    default: "tapewire",
    pattern: /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/,
    meaning: "subjects are <prefix>.<exchange>.all (link/README.md)",
  }),
  exchanges: list("TAPEWIRE_LINK_EXCHANGES", {
    default: [],
    item: (s) => (isExchangeName(s) ? undefined : "an exchange (kraken, coinbase, binance)"),
    meaning: "exchanges to export or import (empty = all)",
  }),
  relayOut: string("TAPEWIRE_RELAY_OUT", {
    default: "run/relay-out.sock",
    meaning: "export: the local relay's consumer socket",
  }),
  relayIn: string("TAPEWIRE_RELAY_IN", {
    default: "run/relay-in.sock",
    meaning: "import: the local relay's collector ingest socket (frames collectors published to JetStream)",
  }),
  relayPassthrough: string("TAPEWIRE_RELAY_PASSTHROUGH_IN", {
    default: "run/relay-passthrough.sock",
    meaning:
      "import: the local relay's pass-through ingest socket (an exporting relay's frames keep their seq)",
  }),
  batchFrames: int("TAPEWIRE_LINK_BATCH_FRAMES", {
    default: 2048,
    min: 1,
    max: 20_000,
    meaning: "export: frames packed into one JetStream message at most (48 B each)",
  }),
  batchUs: duration("TAPEWIRE_LINK_BATCH_AGE", {
    default: 1000,
    unit: "us",
    max: 1_000_000,
    meaning:
      "export: partly filled messages go out at most once per this long (500us, 1ms; an idle link publishes a frame at once; a busy one sends at the first relay read after it, or a timer does); 0 = at the end of each relay read",
  }),
  eagerInFlight: int("TAPEWIRE_LINK_EAGER_IN_FLIGHT", {
    default: 1,
    min: 1,
    max: 65_536,
    meaning:
      "export: a partly filled message is published at the end of a relay read only while fewer publishes are in flight; else it keeps filling until one is acknowledged (fewer, fuller messages at low rates)",
  }),
  maxInFlight: int("TAPEWIRE_LINK_MAX_IN_FLIGHT", {
    default: 256,
    min: 1,
    max: 65_536,
    meaning: "export: unacknowledged publishes at most; beyond it the exporter pauses its relay feed",
  }),
  importFrom: string("TAPEWIRE_LINK_IMPORT_FROM", {
    default: "relay",
    pattern: /^(relay|collector)$/,
    expected: "relay or collector",
    meaning:
      "import: relay = an exporting relay's subjects (<prefix>.<exchange>.all) into the pass-through socket; collector = collectors' own subjects (<prefix>.<exchange>.collector) into the collector ingest socket",
  }),
  durable: string("TAPEWIRE_LINK_DURABLE", {
    default: "tapewire-import",
    pattern: /^[A-Za-z0-9_-]{1,64}$/,
    meaning: "import: durable consumer name (one per importing relay)",
  }),
  maxAckPending: int("TAPEWIRE_LINK_MAX_ACK_PENDING", {
    default: 512,
    min: 1,
    max: 100_000,
    meaning: "import: messages delivered but not yet acknowledged by the local relay, at most",
  }),
  maxAgeS: duration("TAPEWIRE_LINK_MAX_AGE", {
    default: 86_400,
    unit: "s",
    min: 1,
    meaning: "stream retention by age (set when the exporter creates the stream)",
  }),
  // One variable per role, like the collectors' per exchange: both roles (or two importers, one of them
  // TAPEWIRE_LINK_IMPORT_FROM=collector) may run on one host; a second importer there sets its own port.
  exportMetricsPort: port("LINK_EXPORT_METRICS_PORT", {
    default: 9601,
    off: true,
    meaning: "export: Prometheus /metrics, /health, /ready (see TAPEWIRE_METRICS_HOST; the port is logged)",
  }),
  importMetricsPort: port("LINK_IMPORT_METRICS_PORT", {
    default: 9602,
    off: true,
    meaning: "import: Prometheus /metrics, /health, /ready (see TAPEWIRE_METRICS_HOST; the port is logged)",
  }),
  duplicateWindowS: duration("TAPEWIRE_LINK_DUPLICATE_WINDOW", {
    default: 120,
    unit: "s",
    min: 1,
    meaning: "stream dedupe window: a re-sent message id within it is a no-op",
  }),
});

export type LinkConfig = ConfigOf<typeof linkConfig.vars>;
export const loadLinkConfig = (env?: Env): LinkConfig => linkConfig.read(env);
