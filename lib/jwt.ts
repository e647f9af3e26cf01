// Short-lived access tokens shared by the API and the bridge: JWT with HS256 pinned (RFC 7519/7518).
// The header's alg is checked against the one we accept, never used to pick an algorithm ("none" and RS/HS
// confusion are rejected by construction). iss, aud and exp are always checked.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const JWT_ISSUER = "tapewire";
export const JWT_AUDIENCE = "tapewire-api";
export const JWT_MIN_SECRET_BYTES = 32;
export const DEFAULT_ACCESS_TTL_S = 900;
/** Clock skew tolerated on iat/nbf (seconds), for processes on different hosts. exp gets none. */
const SKEW_S = 30;
const MAX_TOKEN_LENGTH = 4096;
const HEADER = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

type Env = Record<string, string | undefined>;

export interface AccessClaims {
  /** User id. */
  sub: string;
  /** Session (refresh-token family) id, when the token came from a login. */
  sid?: string;
  iat: number;
  exp: number;
}

export type AccessTokenFailure =
  | "malformed"
  | "bad_algorithm"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience";

export class AccessTokenError extends Error {
  override name = "AccessTokenError";
  constructor(readonly reason: AccessTokenFailure) {
    super(`access token rejected: ${reason.replace(/_/g, " ")}`);
  }
}

export class JwtConfigError extends Error {
  override name = "JwtConfigError";
}

const secrets = new Map<string, Buffer>();

/**
 * The HMAC key: JWT_SECRET (at least 32 bytes), or outside production a random secret generated once and
 * kept in .data/jwt-secret (JWT_SECRET_FILE overrides the path), so the api and bridge processes of one
 * `bun run dev` share it without configuration.
 */
export function jwtSecret(env: Env = process.env): Buffer {
  const explicit = env.JWT_SECRET;
  const file = env.JWT_SECRET_FILE ?? join(import.meta.dir, "..", ".data", "jwt-secret");
  const cacheKey = explicit !== undefined && explicit !== "" ? `env:${explicit}` : `file:${file}`;
  const cached = secrets.get(cacheKey);
  if (cached) return cached;
  let secret: Buffer;
  if (explicit !== undefined && explicit !== "") {
    secret = Buffer.from(explicit, "utf8");
    if (secret.length < JWT_MIN_SECRET_BYTES)
      throw new JwtConfigError(
        `JWT_SECRET must be at least ${JWT_MIN_SECRET_BYTES} bytes (256 bits); it has ${secret.length}`,
      );
  } else {
    if (env.NODE_ENV === "production")
      throw new JwtConfigError("JWT_SECRET is required when NODE_ENV=production");
    secret = Buffer.from(readOrCreateSecretFile(file), "utf8");
    if (secret.length < JWT_MIN_SECRET_BYTES)
      throw new JwtConfigError(
        `${file} holds a secret shorter than ${JWT_MIN_SECRET_BYTES} bytes; delete it`,
      );
  }
  secrets.set(cacheKey, secret);
  return secret;
}

/** Read the shared dev secret, creating it atomically: two processes starting together agree on one. */
function readOrCreateSecretFile(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(temp, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
  try {
    linkSync(temp, file); // fails if another process won the race; then we read theirs
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(temp);
  }
  return readFileSync(file, "utf8").trim();
}

export interface SignOptions {
  /** Lifetime in seconds; default JWT_ACCESS_TTL_S from env, else 900. */
  ttlSeconds?: number;
  /** Current time in seconds (tests). */
  now?: number;
}

export function signAccessToken(
  claims: { sub: string; sid?: string },
  env: Env = process.env,
  options: SignOptions = {},
) {
  const now = Math.floor(options.now ?? Date.now() / 1000);
  const ttl = options.ttlSeconds ?? accessTtlSeconds(env);
  const payload: Record<string, unknown> = {
    iss: JWT_ISSUER,
    aud: JWT_AUDIENCE,
    sub: claims.sub,
    iat: now,
    exp: now + ttl,
  };
  if (claims.sid !== undefined) payload.sid = claims.sid;
  const body = `${HEADER}.${base64url(JSON.stringify(payload))}`;
  return `${body}.${createHmac("sha256", jwtSecret(env)).update(body).digest("base64url")}`;
}

/** JWT_ACCESS_TTL_S (default 900 s), validated. */
export function accessTtlSeconds(env: Env = process.env): number {
  const raw = env.JWT_ACCESS_TTL_S;
  if (raw === undefined || raw === "") return DEFAULT_ACCESS_TTL_S;
  const ttl = Number(raw);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400)
    throw new JwtConfigError(
      `JWT_ACCESS_TTL_S must be an integer 1..86400 seconds, got ${JSON.stringify(raw)}`,
    );
  return ttl;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** Verify an access token; returns its claims or throws AccessTokenError. Never trusts the header's alg. */
export function verifyAccessToken(
  token: string,
  env: Env = process.env,
  nowSeconds = Date.now() / 1000,
): AccessClaims {
  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) throw new AccessTokenError("malformed");
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw new AccessTokenError("malformed");
  const [h, p, s] = parts as [string, string, string];
  const header = parseJson(h);
  if (
    header.alg !== "HS256" ||
    (header.typ !== undefined && header.typ !== "JWT") ||
    header.crit !== undefined
  )
    throw new AccessTokenError("bad_algorithm");
  const expected = createHmac("sha256", jwtSecret(env)).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new AccessTokenError("bad_signature");
  const claims = parseJson(p);
  if (claims.iss !== JWT_ISSUER) throw new AccessTokenError("wrong_issuer");
  const aud = claims.aud;
  if (!(aud === JWT_AUDIENCE || (Array.isArray(aud) && aud.includes(JWT_AUDIENCE))))
    throw new AccessTokenError("wrong_audience");
  const { sub, exp, iat, nbf, sid } = claims;
  if (typeof sub !== "string" || sub === "" || typeof exp !== "number" || typeof iat !== "number")
    throw new AccessTokenError("malformed");
  if (sid !== undefined && typeof sid !== "string") throw new AccessTokenError("malformed");
  if (nowSeconds >= exp) throw new AccessTokenError("expired");
  if (iat > nowSeconds + SKEW_S || (typeof nbf === "number" && nbf > nowSeconds + SKEW_S))
    throw new AccessTokenError("not_yet_valid");
  return sid === undefined ? { sub, iat, exp } : { sub, sid, iat, exp };
}

function parseJson(segment: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // falls through to the typed error: a token that is not JSON is malformed, not a server fault
  }
  throw new AccessTokenError("malformed");
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

/** The bearer token of an Authorization header, or undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)$/i.exec(header.trim());
  return match?.[1];
}
