// Optional WebSocket auth (BRIDGE_REQUIRE_AUTH=true): ?token=<access token>, the API's JWT, checked with
// lib/jwt.ts. A refused token is logged by reason (rate-limited), never with the token itself.
import { AccessTokenError, jwtSecret, verifyAccessToken } from "../lib/jwt.ts";
import type { Logger } from "../lib/log.ts";

type Env = Record<string, string | undefined>;

/** Fails at start-up, not at the first browser, when the JWT secret is misconfigured. */
export function makeAuthorizer(env: Env, log: Logger): (token: string) => Promise<boolean> {
  jwtSecret(env);
  return async (token) => {
    try {
      verifyAccessToken(token, env);
      return true;
    } catch (error) {
      if (!(error instanceof AccessTokenError)) throw error;
      log.limited("info", `token-${error.reason}`, "WebSocket token refused", { reason: error.reason });
      return false;
    }
  };
}
