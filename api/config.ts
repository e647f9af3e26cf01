// API configuration, read once from the environment into a frozen object. A bad value fails fast with a
// message that names the variable. The JWT settings (JWT_SECRET, JWT_SECRET_FILE, JWT_ACCESS_TTL_S) are read
// by lib/jwt.ts from the same env object, so the bridge and the API resolve them identically.
import { join } from "node:path";
import { accessTtlSeconds, jwtSecret } from "../lib/jwt.ts";

export type Env = Record<string, string | undefined>;

export interface ApiConfig {
  port: number;
  host: string;
  databaseUrl: string;
  dbPoolSize: number;
  /** redis://... or "memory" (development: one process, nothing shared or kept). */
  redisUrl: string;
  /** Prefix of every Redis key this process writes (several deployments can share one Redis). */
  redisPrefix: string;
  accessTtlS: number;
  refreshTtlS: number;
  loginMaxPerIp: number;
  loginMaxPerAccount: number;
  loginWindowS: number;
  /** Trust X-Forwarded-For for the client IP (only behind a proxy you run). */
  trustProxy: boolean;
  /** Paper matcher period; 0 turns the loop off (fills on arrival still happen). */
  matcherMs: number;
  /** A book top older than this is not a quote a market order may fill against. */
  quoteMaxAgeMs: number;
  /** Paper fee in basis points of notional, as exact decimal text. */
  feeBps: string;
  cacheTtlMs: number;
  /** Market-data routes answer without a token. */
  publicMarketData: boolean;
  /** Built dashboard to serve at / (ignored when the folder does not exist). */
  uiDir: string;
  argon2MemoryKiB: number;
  argon2TimeCost: number;
  /** The env the JWT helpers read (JWT_SECRET etc.). */
  env: Env;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadApiConfig(env: Env = process.env): Readonly<ApiConfig> {
  const config: ApiConfig = {
    port: int(env, "API_PORT", 3000, 0, 65535),
    host: env.API_HOST || "127.0.0.1",
    databaseUrl: env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/tapewire",
    dbPoolSize: int(env, "API_DB_POOL", 10, 1, 200),
    redisUrl: env.REDIS_URL || "redis://127.0.0.1:6379",
    redisPrefix: env.API_REDIS_PREFIX ?? "tw:",
    accessTtlS: wrap("JWT_ACCESS_TTL_S", () => accessTtlSeconds(env)),
    refreshTtlS: int(env, "API_REFRESH_TTL_S", 30 * 86400, 60, 365 * 86400),
    loginMaxPerIp: int(env, "API_LOGIN_MAX_PER_IP", 20, 1, 100000),
    loginMaxPerAccount: int(env, "API_LOGIN_MAX_PER_ACCOUNT", 5, 1, 100000),
    loginWindowS: int(env, "API_LOGIN_WINDOW_S", 300, 1, 86400),
    trustProxy: bool(env, "API_TRUST_PROXY", false),
    matcherMs: int(env, "API_MATCHER_MS", 250, 0, 60000),
    quoteMaxAgeMs: int(env, "API_QUOTE_MAX_AGE_MS", 10000, 1, 86400000),
    feeBps: decimal(env, "API_FEE_BPS", "0"),
    cacheTtlMs: int(env, "API_CACHE_TTL_MS", 1000, 0, 3600000),
    publicMarketData: bool(env, "API_PUBLIC_MARKET_DATA", true),
    uiDir: env.API_UI_DIR || join(import.meta.dir, "..", "ui", "dist"),
    argon2MemoryKiB: int(env, "API_ARGON2_MEMORY_KIB", 65536, 1024, 4194304),
    argon2TimeCost: int(env, "API_ARGON2_TIME_COST", 2, 1, 20),
    env,
  };
  if (config.redisUrl === "memory" && env.NODE_ENV === "production")
    throw new ConfigError("REDIS_URL=memory is for development; production needs a real Redis");
  if (config.redisUrl !== "memory" && !/^rediss?:\/\//.test(config.redisUrl))
    throw new ConfigError(
      `REDIS_URL must be redis://host:port, rediss://... or memory, got ${JSON.stringify(config.redisUrl)}`,
    );
  // Resolve the signing key now so a short or missing secret stops the process at start, not at login.
  wrap("JWT_SECRET", () => jwtSecret(env));
  return Object.freeze(config);
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be an integer ${min}..${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (["1", "true", "yes", "on"].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no", "off"].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function decimal(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d{1,6}(\.\d{1,6})?$/.test(raw))
    throw new ConfigError(`${name} must be a non-negative decimal like 2.5, got ${JSON.stringify(raw)}`);
  return raw;
}

function wrap<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    const message = (error as Error).message;
    throw new ConfigError(message.includes(name) ? message : `${name}: ${message}`);
  }
}
