// Bearer-token checks as Elysia plugins. `derive` runs before validation, so a request without a valid
// token gets 401 whatever else is wrong with it, and handlers receive a verified userId.
import { Elysia } from "elysia";
import { AccessTokenError, bearerToken, verifyAccessToken } from "../../lib/jwt.ts";
import type { Env } from "../config.ts";
import { UnauthorizedError } from "../errors.ts";

/** The user id of a valid access token in an Authorization header, or a 401 that says what is wrong. */
export function authenticate(authorization: string | undefined, env: Env): string {
  const token = bearerToken(authorization);
  if (!token) throw new UnauthorizedError("missing bearer token: send Authorization: Bearer <accessToken>");
  try {
    return verifyAccessToken(token, env).sub;
  } catch (error) {
    if (error instanceof AccessTokenError) throw new UnauthorizedError(error.message);
    throw error;
  }
}

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
