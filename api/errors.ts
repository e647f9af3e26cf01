// Domain errors carry their HTTP status; one onError (errorHandler) turns every failure into
// { error, message } JSON. Unexpected errors are logged with context and answered as a bare 500: no stack,
// SQL or secret reaches a client.
import { Elysia, t } from "elysia";
import type { Logger } from "../lib/log.ts";
import type { MethodsFor } from "./http/methods.ts";
import type { ApiMetrics } from "./metrics.ts";

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class BadRequestError extends ApiError {
  constructor(message: string) {
    super(400, "bad_request", message);
  }
}
export class UnauthorizedError extends ApiError {
  constructor(message: string) {
    super(401, "unauthorized", message, { "www-authenticate": 'Bearer realm="tapewire"' });
  }
}
export class ForbiddenError extends ApiError {
  constructor(message: string) {
    super(403, "forbidden", message);
  }
}
export class NotFoundError extends ApiError {
  constructor(message: string) {
    super(404, "not_found", message);
  }
}
export class ConflictError extends ApiError {
  constructor(message: string, code = "conflict") {
    super(409, code, message);
  }
}
export class UnprocessableError extends ApiError {
  constructor(message: string) {
    super(422, "validation", message);
  }
}
export class TooManyRequestsError extends ApiError {
  constructor(message: string, retryAfterS: number) {
    super(429, "rate_limited", message, { "retry-after": String(Math.max(1, Math.ceil(retryAfterS))) });
  }
}
export class ServiceUnavailableError extends ApiError {
  constructor(message: string) {
    super(503, "unavailable", message);
  }
}

/** The body of every error response (OpenAPI component). */
export const ErrorBody = t.Object(
  { error: t.String({ description: "machine-readable code" }), message: t.String() },
  { examples: [{ error: "validation", message: "limit must be an integer 1..1000" }] },
);

/** Standard error responses for route docs. */
export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  422: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
} as const;

/**
 * OpenAPI responses for a 204 route, given as detail.responses: the OpenAPI plugin renders a void response
 * schema as invalid OpenAPI, so these routes declare no response schema and document it by hand.
 */
export function noContentResponses(description: string) {
  const error = (d: string) => ({ description: d, content: { "application/json": { schema: ErrorBody } } });
  return {
    204: { description },
    400: error("Body is not valid JSON"),
    401: error("Unauthorized"),
    403: error("Forbidden"),
    404: error("Not found"),
    413: error("Body too large"),
    422: error("Invalid input"),
    429: error("Rate limited"),
    503: error("Unavailable"),
  };
}

interface ValueIssue {
  path?: string;
  summary?: string;
  message?: string;
  schema?: { error?: unknown };
}

/** A short sentence for the first thing wrong with an input: "query.limit: must be ..." */
export function validationMessage(on: string, issues: readonly ValueIssue[], custom: unknown): string {
  if (typeof custom === "string") return custom;
  const first = issues[0];
  if (!first) return `invalid ${on}`;
  const own = first.schema?.error;
  if (typeof own === "string") return own;
  const field = (first.path ?? "").replace(/^\//, "").replace(/\//g, ".");
  const text = first.summary || first.message || "is invalid";
  return field ? `${on}.${field}: ${text}` : `${on}: ${text}`;
}

export function errorHandler(log: Logger, metrics: ApiMetrics, methodsFor: MethodsFor = () => []) {
  return new Elysia({ name: "tapewire-errors" }).onError(
    { as: "global" },
    ({ code, error, set, request, path }) => {
      const methodNotAllowed = (allowed: string[]) => {
        set.status = 405;
        set.headers.allow = allowed.join(", ");
        return {
          error: "method_not_allowed",
          message: `${request.method} is not allowed on ${path}; use ${allowed.join(", ")}`,
        };
      };
      set.headers["content-type"] = "application/json";
      // A catch-all route (the UI's GET /*) turns "wrong method" into its own 404.
      if (error instanceof NotFoundError && code !== "NOT_FOUND") {
        const allowed = methodsFor(path);
        if (allowed.length > 0 && !allowed.includes(request.method)) return methodNotAllowed(allowed);
      }
      if (error instanceof ApiError) {
        set.status = error.status;
        Object.assign(set.headers, error.headers);
        return { error: error.code, message: error.message };
      }
      switch (code) {
        case "VALIDATION": {
          set.status = 422;
          return {
            error: "validation",
            message: validationMessage(error.type, error.all, error.customError),
          };
        }
        case "PARSE":
          set.status = 400;
          return { error: "bad_request", message: "request body is not valid JSON" };
        case "NOT_FOUND": {
          const allowed = methodsFor(path);
          if (allowed.length > 0 && !allowed.includes(request.method)) return methodNotAllowed(allowed);
          set.status = 404;
          return { error: "not_found", message: `no route ${request.method} ${path}` };
        }
        case "INVALID_COOKIE_SIGNATURE":
          set.status = 400;
          return { error: "bad_request", message: "invalid cookie" };
      }
      metrics.errors.inc();
      log.error("request failed", {
        method: request.method,
        path,
        code: String(code),
        error: error as Error,
      });
      set.status = 500;
      return { error: "internal", message: "internal error; it has been logged" };
    },
  );
}
