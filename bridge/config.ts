// Bridge settings, read once from the environment into a frozen object; a bad value fails at start-up naming
// the variable (STYLE.md habit 7).

export interface BridgeConfig {
  /** WebSocket (and /metrics, /health) port (BRIDGE_PORT); 0 picks a free one. */
  readonly port: number;
  readonly hostname: string;
  /** Separate Prometheus port (BRIDGE_METRICS_PORT); 0 picks a free one, -1 disables (the bridge port still serves /metrics). */
  readonly metricsPort: number;
  /** The relay's consumer socket (TAPEWIRE_RELAY_OUT). */
  readonly relayPath: string;
  /** A client whose unsent bytes exceed this gets {"type":"error","code":"slow_client"} and is closed. */
  readonly maxBufferedBytes: number;
  /** Browser Origins allowed to connect (BRIDGE_ALLOWED_ORIGINS, comma list); empty = all (dev). */
  readonly allowedOrigins: readonly string[];
  readonly maxClients: number;
  /** Topics (exchange × symbol × kind) one client may hold. */
  readonly maxSubscriptions: number;
  /** Largest message a client may send us. */
  readonly maxMessageBytes: number;
  /** Require ?token=<JWT access token> on the WebSocket URL (BRIDGE_REQUIRE_AUTH=true). */
  readonly requireAuth: boolean;
  /** Postgres URL (DATABASE_URL); undefined = no database writes (logged loudly at start). */
  readonly databaseUrl: string | undefined;
  readonly bookSampleMs: number;
  readonly batchRows: number;
  readonly batchMs: number;
  /** In-memory bound on rows waiting for the database, in bytes of COPY text; beyond it batches spool. */
  readonly maxQueuedBytes: number;
  readonly spoolDir: string;
  /** Spool segment size before a new file is started. */
  readonly spoolSegmentBytes: number;
  /** Levels per side the bridge keeps per book to answer new subscribers with a snapshot. */
  readonly bookDepth: number;
  /** Kraken's subscribed book depth (KRAKEN_BOOK_DEPTH, shared with the Kraken collector). */
  readonly krakenBookDepth: number;
  /** Longest wait between attempts to replay the spool while the database is away. */
  readonly retryMaxMs: number;
  /** How long shutdown may spend writing queued rows before it spools the rest. */
  readonly shutdownMs: number;
}

export class BridgeConfigError extends Error {
  override readonly name = "BridgeConfigError";
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BridgeConfigError(`${name}=${JSON.stringify(raw)}: expected an integer in ${min}..${max}`);
  }
  return value;
}

function bool(env: Env, name: string): boolean {
  const raw = (env[name] ?? "").toLowerCase();
  if (raw === "" || raw === "false" || raw === "0" || raw === "no") return false;
  if (raw === "true" || raw === "1" || raw === "yes") return true;
  throw new BridgeConfigError(`${name}=${JSON.stringify(env[name])}: expected true or false`);
}

export function loadBridgeConfig(env: Env = process.env): BridgeConfig {
  const origins = (env.BRIDGE_ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new BridgeConfigError(
        `BRIDGE_ALLOWED_ORIGINS: ${JSON.stringify(origin)} is not an origin like https://example.com:8443`,
      );
    }
  }
  const maxBufferedBytes = int(env, "BRIDGE_MAX_BUFFERED_BYTES", 4 << 20, 16 << 10, 1 << 30);
  return Object.freeze({
    port: int(env, "BRIDGE_PORT", 8080, 0, 65535),
    hostname: env.BRIDGE_HOST || "0.0.0.0",
    metricsPort: int(env, "BRIDGE_METRICS_PORT", 9400, -1, 65535),
    relayPath: env.TAPEWIRE_RELAY_OUT || "run/relay-out.sock",
    maxBufferedBytes,
    allowedOrigins: Object.freeze(origins),
    maxClients: int(env, "BRIDGE_MAX_CLIENTS", 1000, 1, 1_000_000),
    maxSubscriptions: int(env, "BRIDGE_MAX_SUBSCRIPTIONS", 4096, 1, 1_000_000),
    maxMessageBytes: int(env, "BRIDGE_MAX_MESSAGE_BYTES", 16 << 10, 256, 16 << 20),
    requireAuth: bool(env, "BRIDGE_REQUIRE_AUTH"),
    databaseUrl: env.DATABASE_URL || undefined,
    bookSampleMs: int(env, "BRIDGE_BOOK_SAMPLE_MS", 1000, 10, 3_600_000),
    batchRows: int(env, "BRIDGE_BATCH_ROWS", 5000, 1, 1_000_000),
    batchMs: int(env, "BRIDGE_BATCH_MS", 100, 1, 60_000),
    maxQueuedBytes: int(env, "BRIDGE_MAX_QUEUED_BYTES", 64 << 20, 1 << 16, 1 << 32),
    spoolDir: env.BRIDGE_SPOOL_DIR || ".data/spool",
    spoolSegmentBytes: int(env, "BRIDGE_SPOOL_SEGMENT_BYTES", 16 << 20, 1 << 12, 1 << 30),
    bookDepth: int(env, "BRIDGE_BOOK_DEPTH", 1000, 1, 100_000),
    krakenBookDepth: int(env, "KRAKEN_BOOK_DEPTH", 10, 1, 1000),
    retryMaxMs: int(env, "BRIDGE_DB_RETRY_MAX_MS", 5000, 10, 600_000),
    shutdownMs: int(env, "BRIDGE_SHUTDOWN_MS", 5000, 0, 600_000),
  });
}
