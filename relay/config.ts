// Relay settings, declared once with lib/config.ts (which also generates docs/configuration.md) and read once
// into a frozen object; a bad value fails at start-up naming the variable (STYLE.md habit 7).
import {
  bool,
  bytes,
  ConfigError,
  type ConfigOf,
  defineConfig,
  duration,
  type Env,
  int,
  port,
  string,
} from "../lib/config.ts";

export { ConfigError };

export const relayConfig = defineConfig(
  "relay",
  {
    inPath: string("TAPEWIRE_RELAY_IN", { default: "run/relay-in.sock", meaning: "collectors connect here" }),
    outPath: string("TAPEWIRE_RELAY_OUT", {
      default: "run/relay-out.sock",
      meaning: "consumers connect here",
    }),
    passthroughPath: string("TAPEWIRE_RELAY_PASSTHROUGH_IN", {
      default: "",
      meaning:
        "an importing relay's pass-through ingest socket: frames keep their seq (relay/passthrough.ts); empty = off",
    }),
    consumerQueueBytes: bytes("TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES", {
      default: 8 << 20,
      min: 4096,
      max: 1 << 30,
      meaning: "per-consumer queue bound (relay/README.md, slow-consumer policy)",
    }),
    slowGraceMs: duration("TAPEWIRE_RELAY_SLOW_GRACE_MS", {
      default: 5000,
      unit: "ms",
      max: 600_000,
      meaning: "how long a cut slow consumer may take to read its final SlowConsumer frame",
    }),
    metricsPort: port("RELAY_METRICS_PORT", {
      default: 9300,
      off: true,
      meaning: "/metrics and /health (0 = any free port, -1 = off)",
    }),
    latencySampleEvery: int("TAPEWIRE_RELAY_LATENCY_SAMPLE", {
      default: 64,
      min: 1,
      max: 1 << 20,
      meaning: "hop latency is sampled on 1 frame in this many (a power of two)",
    }),
    socketBufferBytes: bytes("TAPEWIRE_RELAY_SOCKET_BUFFER_BYTES", {
      default: 4 << 20,
      max: 1 << 30,
      meaning: "SO_SNDBUF for a consumer whose writes of 64 KiB or more come back partial; 0 = OS default",
    }),
    multiwrite: bool("TAPEWIRE_RELAY_MULTIWRITE", {
      default: true,
      meaning:
        "a read's direct writes to every consumer in one io_submit (Linux AIO, relay/multiwrite.ts); false = one send per consumer",
    }),
    journal: bool("TAPEWIRE_JOURNAL", {
      default: true,
      meaning: "append every accepted frame to the journal (resume, acknowledged ingest); false = live only",
    }),
    journalDir: string("TAPEWIRE_JOURNAL_DIR", {
      default: ".data/journal",
      meaning: "journal segment files",
    }),
    segmentBytes: bytes("TAPEWIRE_JOURNAL_SEGMENT_BYTES", {
      default: 64 << 20,
      min: 4096,
      max: 1 << 30,
      meaning: "a segment is closed and a new one begun at this size",
    }),
    segmentMs: duration("TAPEWIRE_JOURNAL_SEGMENT_AGE", {
      default: 3_600_000,
      unit: "ms",
      min: 1000,
      meaning: "a segment is closed and a new one begun at this age",
    }),
    fsyncMs: duration("TAPEWIRE_JOURNAL_FSYNC_MS", {
      default: 50,
      unit: "ms",
      max: 60_000,
      meaning: "the journal is written and fsynced at most this often (0 = after every ingest read)",
    }),
    retentionMs: duration("TAPEWIRE_JOURNAL_RETENTION_AGE", {
      default: 7 * 86_400_000,
      unit: "ms",
      min: 1000,
      meaning: "closed segments older than this are deleted (once archived)",
    }),
    retentionBytes: bytes("TAPEWIRE_JOURNAL_RETENTION_BYTES", {
      default: 10 * (1 << 30),
      min: 4096,
      meaning: "the oldest closed segments are deleted (once archived) while the journal is larger",
    }),
    requireArchive: bool("TAPEWIRE_JOURNAL_REQUIRE_ARCHIVE", {
      default: true,
      meaning: "a segment is deleted only after the archiver wrote its `.archived` marker (relay/README.md)",
    }),
    journalDirect: bool("TAPEWIRE_JOURNAL_DIRECT", {
      default: true,
      meaning:
        "journal flushes over 64 KiB (above ~270k frames/s) are written O_DIRECT, without the page-cache copy; false = through the page cache, so a resume soon after such a burst reads memory, not the disk",
    }),
    traceFile: string("TAPEWIRE_RELAY_TRACE", {
      default: "",
      meaning:
        "benchmarks only: record per-read hop times and write them to this file at stop (relay/trace.ts); empty = off",
    }),
    ackMs: duration("TAPEWIRE_RELAY_ACK_MS", {
      default: 5,
      unit: "ms",
      min: 1,
      max: 10_000,
      meaning: "how often the relay acknowledges journaled frames to each collector (Status ack)",
    }),
  },
  (c) =>
    (c.latencySampleEvery & (c.latencySampleEvery - 1)) === 0
      ? undefined
      : [
          {
            variable: "TAPEWIRE_RELAY_LATENCY_SAMPLE",
            value: String(c.latencySampleEvery),
            expected: "a power of two",
          },
        ],
);

export type RelayConfig = ConfigOf<typeof relayConfig.vars>;

/** Read the relay's settings from `env`; throws ConfigError naming every bad variable. */
export function loadRelayConfig(env: Env = process.env): RelayConfig {
  return relayConfig.read(env);
}
