// Security headers on every response, and the CORS policy.
// - nosniff, no referrer, no framing, same-origin opener on everything.
// - Content-Security-Policy: API responses (JSON, metrics) may load nothing; the OpenAPI page loads the
//   Scalar viewer the openapi plugin links from jsDelivr; the dashboard loads only its own files and
//   connects to API_CSP_CONNECT_SRC (the bridge WebSocket).
// - CORS: none by default (same origin only). Origins in API_ALLOWED_ORIGINS get CORS answers with
//   credentials (the refresh cookie); preflights are answered 204 for them and 403 for anyone else.
import { Elysia } from "elysia";

export interface HeaderPolicy {
  allowedOrigins: readonly string[];
  cspConnectSrc: string;
}

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self' https://cdn.jsdelivr.net",
  "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.scalar.com",
  "font-src 'self' data: https://cdn.jsdelivr.net https://fonts.scalar.com",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");
const uiCsp = (connect: string) =>
  [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${connect}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join("; ");

const isApiPath = (path: string) =>
  path === "/api" ||
  path.startsWith("/api/") ||
  path === "/health" ||
  path === "/metrics" ||
  path === "/openapi/json";

export function cspFor(path: string, policy: HeaderPolicy): string {
  if (path === "/openapi" || path === "/openapi/") return DOCS_CSP;
  return isApiPath(path) ? API_CSP : uiCsp(policy.cspConnectSrc);
}

const CORS_METHODS = "GET, POST, PATCH, DELETE";
const CORS_HEADERS = "authorization, content-type";

export function securityHeaders(policy: HeaderPolicy) {
  const ui = uiCsp(policy.cspConnectSrc);
  return new Elysia({ name: "tapewire-security-headers" }).onRequest(({ request, set }) => {
    const path = new URL(request.url).pathname;
    const h = set.headers;
    h["x-content-type-options"] = "nosniff";
    h["referrer-policy"] = "no-referrer";
    h["x-frame-options"] = "DENY";
    h["cross-origin-opener-policy"] = "same-origin";
    h["content-security-policy"] = path === "/openapi" || isApiPath(path) ? cspFor(path, policy) : ui;
    const origin = request.headers.get("origin");
    h.vary = "Origin";
    if (!origin || !policy.allowedOrigins.includes(origin)) {
      if (request.method === "OPTIONS" && origin && request.headers.has("access-control-request-method"))
        return new Response(
          JSON.stringify({
            error: "forbidden",
            message: `origin ${origin} is not allowed (API_ALLOWED_ORIGINS)`,
          }),
          { status: 403, headers: { "content-type": "application/json", ...flat(h) } },
        );
      return;
    }
    h["access-control-allow-origin"] = origin;
    h["access-control-allow-credentials"] = "true";
    h["access-control-expose-headers"] = "retry-after, www-authenticate";
    if (request.method === "OPTIONS" && request.headers.has("access-control-request-method"))
      return new Response(null, {
        status: 204,
        headers: {
          ...flat(h),
          "access-control-allow-methods": CORS_METHODS,
          "access-control-allow-headers": CORS_HEADERS,
          "access-control-max-age": "600",
        },
      });
  });
}

function flat(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]));
}
