// Bearer-token checks as Elysia plugins. `derive` runs before validation, so a request without a valid
// token gets 401 whatever else is wrong with it, and handlers receive a verified userId. Whether the
// token's session was revoked (logout, refresh-token reuse) is checked for every request by
// sessionCheck() in app.ts, so it covers every module that uses these guards.
import { Elysia } from "elysia";
import { type AccessClaims, AccessTokenError, bearerToken, verifyAccessToken } from "../../lib/jwt.ts";
import type { Env } from "../config.ts";
import { UnauthorizedError } from "../errors.ts";
import type { SessionRevocations } from "./revocations.ts";

/** The claims of a valid access token in an Authorization header, or a 401 that says what is wrong. */
export function verifyBearer(authorization: string | undefined, env: Env): AccessClaims {
  const token = bearerToken(authorization);
  if (!token) throw new UnauthorizedError("missing bearer token: send Authorization: Bearer <accessToken>");
  try {
    return verifyAccessToken(token, env);
  } catch (error) {
    if (error instanceof AccessTokenError) throw new UnauthorizedError(error.message);
    throw error;
  }
}

/** The user id of a valid access token in an Authorization header, or a 401. */
export const authenticate = (authorization: string | undefined, env: Env): string =>
  verifyBearer(authorization, env).sub;

export const BEARER = [{ bearerAuth: [] as string[] }];

/** Every route of the module that uses this requires a token; handlers get `userId`. */
export function requireUser(env: Env) {
  return new Elysia().derive({ as: "scoped" }, ({ headers }) => ({
    userId: authenticate(headers.authorization, env),
  }));
}

/** Market data: open to anyone when API_PUBLIC_MARKET_DATA is on, else the same check as requireUser. */
export function marketAccess(env: Env, isPublic: boolean) {
  return new Elysia().derive({ as: "scoped" }, ({ headers }) => {
    if (!isPublic) authenticate(headers.authorization, env);
    return {};
  });
}

export const REVOKED_MESSAGE = "access token rejected: its session was logged out or revoked";

/**
 * For every request that carries a valid bearer token with a session id: refuse it once that session is
 * revoked. Invalid tokens are left to the route guards (which word the reason); public routes given a
 * revoked token refuse it too, as a client should learn that its login ended.
 */
export function sessionCheck(env: Env, revocations: SessionRevocations) {
  return new Elysia({ name: "tapewire-session-check" }).onTransform({ as: "global" }, async ({ request }) => {
    const token = bearerToken(request.headers.get("authorization"));
    if (!token) return;
    let sid: string | undefined;
    try {
      sid = verifyAccessToken(token, env).sid;
    } catch {
      return;
    }
    if (sid !== undefined && (await revocations.isRevoked(sid))) throw new UnauthorizedError(REVOKED_MESSAGE);
  });
}
