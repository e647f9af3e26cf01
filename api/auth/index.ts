// Auth controller: register, login, refresh, logout, me. Two ways to hold the refresh token: scripts get it
// in the JSON body and send it back in the body; browsers ask for the HttpOnly cookie (refreshCookie: true
// at login) and then call refresh/logout with no body (cookie.ts: Origin check, SameSite=Strict).
// Every response carrying a token is Cache-Control: no-store.
import { Elysia } from "elysia";
import { clientIp } from "../client-ip.ts";
import type { ApiConfig } from "../config.ts";
import { errorResponses, noContentResponses, UnauthorizedError } from "../errors.ts";
import { JSON_BODY } from "../http/json-body.ts";
import {
  type CookiePolicy,
  checkCookieOrigin,
  clearedRefreshCookie,
  REFRESH_COOKIE,
  readCookie,
  refreshCookie,
} from "./cookie.ts";
import { BEARER, requireUser } from "./guard.ts";
import { AuthModel as M } from "./model.ts";
import type { AuthService, Session } from "./service.ts";

const NO_STORE = "no-store";

export function authController(service: AuthService, config: Readonly<ApiConfig>) {
  const policy: CookiePolicy = config;
  const ip = (request: Request, server: Parameters<typeof clientIp>[1]) =>
    clientIp(request, server, config.trustProxy);

  /** The refresh token of a request: the body's (scripts) or the cookie's (browsers, Origin-checked). */
  const presented = (request: Request, body: { refreshToken?: string } | undefined) => {
    if (body?.refreshToken !== undefined) return { token: body.refreshToken, fromCookie: false };
    const cookie = readCookie(request.headers.get("cookie"), REFRESH_COOKIE);
    if (cookie === undefined) return undefined;
    checkCookieOrigin(request, policy);
    return { token: cookie, fromCookie: true };
  };

  /** Cookie mode: move the refresh token from the body into the cookie. */
  const deliver = (
    session: Session,
    toCookie: boolean,
    request: Request,
    headers: Record<string, unknown>,
  ) => {
    headers["cache-control"] = NO_STORE;
    if (!toCookie) return session;
    headers["set-cookie"] = refreshCookie(session.refreshToken, config.refreshTtlS, request, policy);
    const { refreshToken: _kept, ...rest } = session;
    return rest;
  };

  return new Elysia({ prefix: "/auth", detail: { tags: ["auth"] } })
    .post(
      "/register",
      async ({ body, request, server, set }) => {
        set.status = 201;
        return service.register(body.email, body.password, ip(request, server));
      },
      {
        body: M.register,
        parse: JSON_BODY,
        response: { 201: M.user, ...errorResponses },
        detail: {
          summary: "Create an account",
          description:
            "409 if the email is taken; 422 for a password outside the rules or among the most common passwords. Rate-limited per IP.",
        },
      },
    )
    .post(
      "/login",
      async ({ body, request, server, set }) => {
        if (body.refreshCookie) checkCookieOrigin(request, policy);
        const session = await service.login(body.email, body.password, ip(request, server));
        return deliver(session, body.refreshCookie === true, request, set.headers);
      },
      {
        body: M.login,
        parse: JSON_BODY,
        response: { 200: M.session, ...errorResponses },
        detail: {
          summary: "Log in",
          description:
            "Returns an access token and a refresh token (or, with refreshCookie: true, sets the HttpOnly refresh cookie tapewire_refresh on Path=/api/auth; 403 unless the Origin is the API's own or in API_ALLOWED_ORIGINS). Failed logins back off per account and address (429 with Retry-After), and lock the account only after many failures from many addresses; 503 when the limiter's Redis is down.",
        },
      },
    )
    .post(
      "/refresh",
      async ({ body, request, set }) => {
        const from = presented(request, body);
        if (!from)
          throw new UnauthorizedError('no refresh token: send {"refreshToken": ...} or the refresh cookie');
        const session = await service.refreshSession(from.token);
        return deliver(session, from.fromCookie, request, set.headers);
      },
      {
        body: M.refresh,
        parse: JSON_BODY,
        response: { 200: M.session, ...errorResponses },
        detail: {
          summary: "Rotate the refresh token",
          description:
            "Single use: returns a new access and refresh token (from the body, or from the refresh cookie, which is then replaced; 403 for a cookie request from an origin not allowed). Presenting a used refresh token revokes every token of that login, access tokens included.",
        },
      },
    )
    .post(
      "/logout",
      async ({ body, request, set }) => {
        const from = presented(request, body);
        if (from) await service.logout(from.token);
        if (from?.fromCookie) set.headers["set-cookie"] = clearedRefreshCookie(request, policy);
        set.headers["cache-control"] = NO_STORE;
        set.status = 204;
      },
      {
        body: M.refresh,
        parse: JSON_BODY,
        detail: {
          summary: "Log out",
          description:
            "Revokes the session of the refresh token (body or cookie): its refresh tokens and its access tokens. Idempotent (204).",
          responses: noContentResponses("Logged out"),
        },
      },
    )
    .use(requireUser(config.env))
    .get("/me", ({ userId }) => service.me(userId), {
      response: { 200: M.user, ...errorResponses },
      detail: { summary: "The current user", security: BEARER },
    });
}
