// API configuration: declared once with lib/config.ts (read once, frozen, every bad value named at start).
// The JWT settings (JWT_SECRET, JWT_SECRET_FILE, JWT_ACCESS_TTL_S) are resolved by lib/jwt.ts from the
// same env object, so the bridge and the API read them identically; they are checked here too.
import { join } from "node:path";
import { bookDepthVars } from "../bridge/book-depth.ts";
import {
  bool,
  ConfigError,
  type ConfigOf,
  custom,
  defineConfig,
  duration,
  ExpectedError,
  int,
  list,
  oneOf,
  port,
  string,
} from "../lib/config.ts";
import { accessTtlSeconds, jwtSecret } from "../lib/jwt.ts";

export type Env = Record<string, string | undefined>;
export { ConfigError };

const originItem = (s: string) => {
  try {
    const u = new URL(s);
    return u.origin === s && /^https?:$/.test(u.protocol)
      ? undefined
      : "an origin like https://app.example.com";
  } catch {
    return "an origin like https://app.example.com";
  }
};

export const apiVars = defineConfig(
  "api",
  {
    port: port("API_PORT", { default: 3000, meaning: "HTTP port (0 = any free port)" }),
    host: string("API_HOST", { default: "127.0.0.1", meaning: "address to listen on" }),
    databaseUrl: string("DATABASE_URL", {
      default: "postgres://postgres@127.0.0.1:5432/tapewire",
      pattern: /^postgres(ql)?:\/\//,
      expected: "a postgres:// URL",
      defaultText: "set by bun run dev",
      meaning: "Postgres with the tapewire tables",
    }),
    databaseReadUrl: string("DATABASE_READ_URL", {
      default: undefined,
      pattern: /^postgres(ql)?:\/\//,
      expected: "a postgres:// URL",
      meaning:
        "a streaming replica of DATABASE_URL for market-data and analytics reads (docs/scaling.md); accounts, portfolios, orders and cash always use DATABASE_URL; unset = every read on DATABASE_URL",
    }),
    readMaxLagMs: duration("DATABASE_READ_MAX_LAG_MS", {
      default: 2000,
      unit: "ms",
      min: 50,
      max: 3_600_000,
      meaning:
        "a replica further behind the primary than this, or not answering, is left: its reads go to DATABASE_URL until it has caught up",
    }),
    dbPoolSize: int("API_DB_POOL", {
      default: 10,
      min: 1,
      max: 200,
      meaning: "Postgres connections (and as many again to DATABASE_READ_URL when set)",
    }),
    redisUrl: string("REDIS_URL", {
      default: "redis://127.0.0.1:6379",
      pattern: /^(rediss?:\/\/.+|memory)$/,
      expected: "redis://host:port, rediss://... or memory",
      meaning: "Redis for cache, sessions, rate limits; memory = this process only (development)",
    }),
    redisPrefix: string("API_REDIS_PREFIX", {
      default: "tw:",
      meaning: "prefix of every Redis key the API writes (several deployments can share one Redis)",
    }),
    refreshTtlS: int("API_REFRESH_TTL_S", {
      default: 30 * 86400,
      min: 60,
      max: 365 * 86400,
      meaning: "refresh-token (login session) lifetime, seconds",
    }),
    loginMaxPerIp: int("API_LOGIN_MAX_PER_IP", {
      default: 20,
      min: 1,
      max: 100000,
      meaning: "login attempts per client address per window",
    }),
    loginMaxPerPair: int("API_LOGIN_MAX_PER_PAIR", {
      default: 5,
      min: 1,
      max: 100000,
      meaning: "failed logins per (account, address) per window before that address is backed off",
    }),
    loginMaxPerAccount: int("API_LOGIN_MAX_PER_ACCOUNT", {
      default: 100,
      min: 1,
      max: 1000000,
      meaning: "failed logins per account (from all addresses) per window before the account is locked",
    }),
    loginWindowS: int("API_LOGIN_WINDOW_S", {
      default: 300,
      min: 1,
      max: 86400,
      meaning: "login limit window, s",
    }),
    trustProxy: bool("API_TRUST_PROXY", {
      default: false,
      meaning: "trust X-Forwarded-For/-Proto (only behind a proxy you run)",
    }),
    matcherMs: int("API_MATCHER_MS", {
      default: 250,
      min: 0,
      max: 60000,
      meaning: "paper matcher period; 0 = off",
    }),
    quoteMaxAgeMs: int("API_QUOTE_MAX_AGE_MS", {
      default: 10000,
      min: 1,
      max: 86400000,
      meaning: "a book top older than this is no quote to fill against",
    }),
    feeBps: custom("API_FEE_BPS", {
      default: "0",
      expected: "a non-negative decimal like 2.5",
      parse: (raw) => {
        if (!/^\d{1,6}(\.\d{1,6})?$/.test(raw)) throw new ExpectedError("a non-negative decimal like 2.5");
        return raw;
      },
      meaning: "paper fee in basis points of notional",
    }),
    cacheTtlMs: int("API_CACHE_TTL_MS", {
      default: 1000,
      min: 0,
      max: 3600000,
      meaning: "market response cache",
    }),
    feedStaleMs: duration("API_FEED_STALE_MS", {
      default: 15_000,
      unit: "ms",
      min: 1000,
      max: 3_600_000,
      meaning: "GET /api/market/feeds: a feed with no stored message for this long is stale",
    }),
    publicMarketData: bool("API_PUBLIC_MARKET_DATA", {
      default: true,
      meaning: "market routes need no token",
    }),
    uiDir: string("API_UI_DIR", {
      default: join(import.meta.dir, "..", "ui", "dist"),
      defaultText: "ui/dist",
      meaning: "built dashboard served at /",
    }),
    allowedOrigins: list("API_ALLOWED_ORIGINS", {
      default: [],
      item: originItem,
      expected: "a comma list of origins",
      meaning:
        "browser origins besides the API's own that may call it with CORS and use the refresh cookie (empty = same origin only)",
    }),
    cookieSecure: oneOf("API_COOKIE_SECURE", {
      values: ["auto", "true", "false"] as const,
      default: "auto",
      meaning: "Secure flag of the refresh cookie; auto = when the request came over https",
    }),
    cspConnectSrc: string("API_CSP_CONNECT_SRC", {
      default: "'self' ws: wss:",
      pattern: /^[^;,\r\n]+$/,
      expected: "CSP source expressions without ; or ,",
      meaning: "connect-src of the dashboard's Content-Security-Policy (the bridge WebSocket)",
    }),
    metricsToken: string("API_METRICS_TOKEN", {
      default: undefined,
      secret: true,
      pattern: /^.{16,}$/,
      expected: "at least 16 characters",
      meaning: "bearer token for /metrics; unset = /metrics answers loopback clients only",
    }),
    argon2MemoryKiB: int("API_ARGON2_MEMORY_KIB", {
      default: 65536,
      min: 1024,
      max: 4194304,
      meaning: "argon2id memory",
    }),
    argon2TimeCost: int("API_ARGON2_TIME_COST", { default: 2, min: 1, max: 20, meaning: "argon2id passes" }),
    nodeEnv: string("NODE_ENV", { default: "development", meaning: "production refuses REDIS_URL=memory" }),
    // GET /api/market/book-history rebuilds stored books cut as the bridge cut them.
    ...bookDepthVars,
  },
  (c) =>
    c.redisUrl === "memory" && c.nodeEnv === "production"
      ? [{ variable: "REDIS_URL", value: "memory", expected: "a real Redis when NODE_ENV=production" }]
      : undefined,
);

export type ApiConfig = ConfigOf<typeof apiVars.vars> & {
  /** JWT_ACCESS_TTL_S, resolved by lib/jwt.ts. */
  readonly accessTtlS: number;
  /** The env the JWT helpers read (JWT_SECRET etc.). */
  readonly env: Env;
};

export function loadApiConfig(env: Env = process.env): Readonly<ApiConfig> {
  const base = apiVars.read(env);
  // Resolve the signing key now so a short or missing secret stops the process at start, not at login.
  const accessTtlS = jwtSetting("JWT_ACCESS_TTL_S", () => accessTtlSeconds(env));
  jwtSetting("JWT_SECRET", () => jwtSecret(env));
  return Object.freeze({ ...base, accessTtlS, env });
}

function jwtSetting<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new ConfigError("api", [{ variable: name, value: undefined, expected: (error as Error).message }]);
  }
}
