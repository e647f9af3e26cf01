// Optional WebSocket auth (BRIDGE_REQUIRE_AUTH=true): ?token=<access token>, the API's JWT, checked with
// lib/jwt.ts, and its session checked against the revocation mark the API sets on logout or refresh-token
// reuse (lib/sessions.ts). A refused token is logged by reason (rate-limited), never with the token itself.
// An accepted connection keeps its claims: the hub closes it at `exp` or when its session is revoked.
import { AccessTokenError, jwtSecret, verifyAccessToken } from "../lib/jwt.ts";
import type { Logger } from "../lib/log.ts";
import { isSessionRevoked, type SessionRedis } from "../lib/sessions.ts";

type Env = Record<string, string | undefined>;

/** What an accepted token says about its connection. */
export interface ClientAuth {
  readonly sub: string;
  /** The login's session id; a token without one cannot be revoked, only expire. */
  readonly sid?: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}

export type AuthOutcome =
  | { ok: true; auth: ClientAuth }
  | { ok: false; reason: "bad_token" | "session_revoked" | "session_check" };

export type Authorizer = (token: string) => Promise<AuthOutcome>;

/**
 * Fails at start-up, not at the first browser, when the JWT secret is misconfigured. Without `sessions`
 * revocation is not checked (tests of the token alone); main.ts always passes Redis.
 */
export function makeAuthorizer(env: Env, log: Logger, sessions?: SessionRedis): Authorizer {
  jwtSecret(env);
  return async (token) => {
    let auth: ClientAuth;
    try {
      auth = verifyAccessToken(token, env);
    } catch (error) {
      if (!(error instanceof AccessTokenError)) throw error;
      log.limited("info", `token-${error.reason}`, "WebSocket token refused", { reason: error.reason });
      return { ok: false, reason: "bad_token" };
    }
    if (sessions && auth.sid !== undefined) {
      try {
        if (await isSessionRevoked(sessions, auth.sid)) return { ok: false, reason: "session_revoked" };
      } catch (error) {
        // Fail closed: a revoked session must not stream because Redis is away.
        log.limited("warn", "session-check", "cannot check the session (Redis): connection refused", {
          error,
        });
        return { ok: false, reason: "session_check" };
      }
    }
    return { ok: true, auth: { sub: auth.sub, sid: auth.sid, exp: auth.exp } };
  };
}
