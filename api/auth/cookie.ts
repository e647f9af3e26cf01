// The browser's refresh token: an HttpOnly, SameSite=Strict cookie scoped to /api/auth, so page scripts
// never see it and it is sent only to the auth routes. Requests that act on the cookie must carry an
// Origin the API accepts (its own, or one in API_ALLOWED_ORIGINS): SameSite already keeps other sites'
// requests from carrying it, the Origin check is the second lock (OWASP CSRF cheat sheet).
import { ForbiddenError } from "../errors.ts";

export const REFRESH_COOKIE = "tapewire_refresh";
export const REFRESH_COOKIE_PATH = "/api/auth";

export interface CookiePolicy {
  allowedOrigins: readonly string[];
  /** "auto": Secure when the request came over https. */
  cookieSecure: "auto" | "true" | "false";
  trustProxy: boolean;
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The scheme and host the client used (X-Forwarded-* only behind a trusted proxy). */
export function requestOrigin(request: Request, trustProxy: boolean): string {
  const url = new URL(request.url);
  if (trustProxy) {
    const proto = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
    const host = request.headers.get("x-forwarded-host")?.split(",")[0]?.trim();
    if (proto === "http" || proto === "https") url.protocol = `${proto}:`;
    if (host) url.host = host;
  }
  return url.origin;
}

export function isAllowedOrigin(origin: string | null, request: Request, policy: CookiePolicy): boolean {
  if (!origin) return false;
  return origin === requestOrigin(request, policy.trustProxy) || policy.allowedOrigins.includes(origin);
}

/** Refuse a cookie-based auth request from a page the API does not serve or trust. */
export function checkCookieOrigin(request: Request, policy: CookiePolicy): void {
  const origin = request.headers.get("origin");
  if (!isAllowedOrigin(origin, request, policy))
    throw new ForbiddenError(
      origin
        ? `origin ${origin} may not use the refresh cookie; add it to API_ALLOWED_ORIGINS`
        : "the refresh cookie is only accepted with an Origin header (a browser request)",
    );
}

function secure(request: Request, policy: CookiePolicy): boolean {
  if (policy.cookieSecure !== "auto") return policy.cookieSecure === "true";
  return requestOrigin(request, policy.trustProxy).startsWith("https:");
}

export function refreshCookie(
  token: string,
  maxAgeS: number,
  request: Request,
  policy: CookiePolicy,
): string {
  return [
    `${REFRESH_COOKIE}=${token}`,
    `Path=${REFRESH_COOKIE_PATH}`,
    `Max-Age=${maxAgeS}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(secure(request, policy) ? ["Secure"] : []),
  ].join("; ");
}

export function clearedRefreshCookie(request: Request, policy: CookiePolicy): string {
  return refreshCookie("", 0, request, policy);
}
