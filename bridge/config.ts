// Bridge settings, declared once with lib/config.ts (which also generates docs/configuration.md) and read once
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
  list,
  port,
  string,
  url,
} from "../lib/config.ts";
import { bookDepthVars } from "./book-depth.ts";

const ORIGIN = /^https?:\/\/[^/\s]+$/;
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export const bridgeConfig = defineConfig(
  "bridge",
  {
    port: port("BRIDGE_PORT", {
      default: 8080,
      meaning: "WebSocket server (path /ws; also /health and /ready)",
    }),
    hostname: string("BRIDGE_HOST", {
      default: "127.0.0.1",
      meaning: "address the WebSocket server binds; 0.0.0.0 exposes it to the network",
    }),
    metricsPort: port("BRIDGE_METRICS_PORT", {
      default: 9400,
      off: true,
      meaning: "Prometheus /metrics, /health, /ready (see TAPEWIRE_METRICS_HOST)",
    }),
    relayPath: string("TAPEWIRE_RELAY_OUT", {
      default: "run/relay-out.sock",
      meaning: "the relay's consumer socket",
    }),
    nodeEnv: string("NODE_ENV", {
      default: "development",
      meaning:
        "production: the bridge refuses to start without BRIDGE_ALLOWED_ORIGINS or BRIDGE_REQUIRE_AUTH",
    }),
    maxBufferedBytes: bytes("BRIDGE_MAX_BUFFERED_BYTES", {
      default: 4 << 20,
      min: 16 << 10,
      max: 1 << 30,
      meaning:
        "per-client unsent bytes: books pause past a quarter; past it the client gets slow_client and is closed",
    }),
    maxTotalBufferedBytes: bytes("BRIDGE_MAX_TOTAL_BUFFERED_BYTES", {
      default: 32 << 20,
      min: 64 << 10,
      max: 16 * 2 ** 30,
      meaning: "unsent bytes of all clients together; past it the clients holding the most get slow_client",
    }),
    maxBehindMs: duration("BRIDGE_MAX_BEHIND_MS", {
      default: 10_000,
      unit: "ms",
      min: 100,
      max: 3_600_000,
      meaning:
        "a client behind (a sixteenth of BRIDGE_MAX_BUFFERED_BYTES unsent) for this long gets slow_client",
    }),
    maxClosingBytes: bytes("BRIDGE_MAX_CLOSING_BYTES", {
      default: 8 << 20,
      min: 0,
      max: 1 << 30,
      meaning:
        "unsent bytes closed clients may hold while they get their final message (~16 s); beyond it cut clients are dropped at once",
    }),
    allowedOrigins: list("BRIDGE_ALLOWED_ORIGINS", {
      default: [],
      meaning: "browser origins allowed to connect (comma list); empty = any (development only)",
      expected: "a comma list of origins like https://example.com:8443",
      item: (s) => (ORIGIN.test(s) ? undefined : "an origin like https://example.com:8443"),
    }),
    maxClients: int("BRIDGE_MAX_CLIENTS", {
      default: 1000,
      min: 1,
      max: 1_000_000,
      meaning: "open WebSockets at most",
    }),
    maxSubscriptions: int("BRIDGE_MAX_SUBSCRIPTIONS", {
      default: 4096,
      min: 1,
      max: 1_000_000,
      meaning: "topics (exchange × symbol × kind) one client may hold",
    }),
    maxMessageBytes: bytes("BRIDGE_MAX_MESSAGE_BYTES", {
      default: 16 << 10,
      min: 256,
      max: 16 << 20,
      meaning: "largest message a client may send",
    }),
    requireAuth: bool("BRIDGE_REQUIRE_AUTH", {
      default: false,
      meaning:
        "require ?token=<API access token>; the socket closes at the token's exp or when its session is revoked",
    }),
    redisUrl: url("REDIS_URL", {
      default: "redis://127.0.0.1:6379",
      protocols: ["redis:", "rediss:"],
      meaning: "session revocations (read only with BRIDGE_REQUIRE_AUTH)",
    }),
    databaseUrl: url("DATABASE_URL", {
      default: undefined,
      defaultText: "set by bun run dev",
      protocols: ["postgres:", "postgresql:"],
      secret: true,
      meaning: "Postgres/TimescaleDB for trades, book tops, feed events; unset = store nothing",
    }),
    bookSampleMs: duration("BRIDGE_BOOK_SAMPLE_MS", {
      default: 1000,
      unit: "ms",
      min: 10,
      max: 3_600_000,
      meaning: "book-top sampling interval",
    }),
    batchRows: int("BRIDGE_BATCH_ROWS", {
      default: 5000,
      min: 1,
      max: 1_000_000,
      meaning: "database batch size",
    }),
    batchMs: duration("BRIDGE_BATCH_MS", {
      default: 100,
      unit: "ms",
      min: 1,
      max: 60_000,
      meaning: "database batch age",
    }),
    maxQueuedBytes: bytes("BRIDGE_MAX_QUEUED_BYTES", {
      default: 64 << 20,
      min: 64 << 10,
      max: 2 ** 32,
      meaning: "COPY text kept in memory for the database; beyond it batches spool",
    }),
    spoolDir: string("BRIDGE_SPOOL_DIR", {
      default: ".data/spool",
      meaning: "fsync'd spool while the database is down or slow",
    }),
    spoolSegmentBytes: bytes("BRIDGE_SPOOL_SEGMENT_BYTES", {
      default: 16 << 20,
      min: 4 << 10,
      max: 1 << 30,
      meaning: "spool segment size before a new file is started",
    }),
    ...bookDepthVars,
    retryMaxMs: duration("BRIDGE_DB_RETRY_MAX_MS", {
      default: 5000,
      unit: "ms",
      min: 10,
      max: 600_000,
      meaning: "longest wait between spool replays while the database is away",
    }),
    shutdownMs: duration("BRIDGE_SHUTDOWN_MS", {
      default: 5000,
      unit: "ms",
      max: 600_000,
      meaning: "time shutdown may spend writing queued rows before it spools the rest",
    }),
  },
  (c) => {
    if (c.nodeEnv !== "production" || c.allowedOrigins.length > 0 || c.requireAuth) return undefined;
    // Any web page a user opens could otherwise read the stream (issue 8).
    return [
      {
        variable: "BRIDGE_ALLOWED_ORIGINS",
        value: "",
        expected: "an origin allowlist or BRIDGE_REQUIRE_AUTH=true when NODE_ENV=production",
      },
    ];
  },
);

export type BridgeConfig = ConfigOf<typeof bridgeConfig.vars>;

/** Kept for callers that catch the bridge's own error type. */
export { ConfigError as BridgeConfigError };

export function loadBridgeConfig(env: Env = process.env): BridgeConfig {
  return bridgeConfig.read(env);
}

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith("127.");
}
