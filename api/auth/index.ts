// Auth controller: /api/auth/register, login, refresh, logout, me.
import { Elysia } from "elysia";
import { clientIp } from "../client-ip.ts";
import type { ApiConfig } from "../config.ts";
import { errorResponses, noContentResponses } from "../errors.ts";
import { BEARER, requireUser } from "./guard.ts";
import { AuthModel as M } from "./model.ts";
import type { AuthService } from "./service.ts";

export function authController(service: AuthService, config: Readonly<ApiConfig>) {
  const ip = (request: Request, server: Parameters<typeof clientIp>[1]) =>
    clientIp(request, server, config.trustProxy);
  return new Elysia({ prefix: "/auth", detail: { tags: ["auth"] } })
    .post(
      "/register",
      async ({ body, request, server, set }) => {
        set.status = 201;
        return service.register(body.email, body.password, ip(request, server));
      },
      {
        body: M.credentials,
        parse: "json",
        response: { 201: M.user, ...errorResponses },
        detail: {
          summary: "Create an account",
          description: "409 if the email is taken. Rate-limited per IP.",
        },
      },
    )
    .post(
      "/login",
      ({ body, request, server }) => service.login(body.email, body.password, ip(request, server)),
      {
        body: M.credentials,
        parse: "json",
        response: { 200: M.session, ...errorResponses },
        detail: {
          summary: "Log in",
          description:
            "Returns an access token and a refresh token. Rate-limited per account and per IP (429 with Retry-After); 503 when the limiter's Redis is down.",
        },
      },
    )
    .post("/refresh", ({ body }) => service.refreshSession(body.refreshToken), {
      body: M.refresh,
      parse: "json",
      response: { 200: M.session, ...errorResponses },
      detail: {
        summary: "Rotate the refresh token",
        description:
          "Single use: returns a new access and refresh token. Presenting a used refresh token revokes every token of that login.",
      },
    })
    .post(
      "/logout",
      async ({ body, set }) => {
        await service.logout(body.refreshToken);
        set.status = 204;
      },
      {
        body: M.refresh,
        parse: "json",
        detail: {
          summary: "Log out",
          description: "Revokes the refresh token's session. Idempotent (204).",
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
