// The one typed API client (Eden treaty over the API's exported App type) and the error shape the UI shows:
// the API's own `{ error, message }`, word for word.
import { treaty } from "@elysiajs/eden";
import type { App } from "../../../api/index.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let accessToken: string | null = null;
/** The access token lives here, in memory only (never localStorage). */
export function setAccessToken(token: string | null): void {
  accessToken = token;
}
export function getAccessToken(): string | null {
  return accessToken;
}

export const api = treaty<App>(typeof location === "undefined" ? "http://127.0.0.1:3000" : location.origin, {
  fetch: { credentials: "same-origin" },
  // times stay the API's RFC 3339 text (microseconds); Eden would turn them into Dates (milliseconds)
  parseDate: false,
  headers: (): Record<string, string> => (accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
}).api;

interface EdenResult {
  data: unknown;
  error: unknown;
}

/** Unwrap an Eden result: the data, or an ApiError carrying the API's words. */
export async function call<R extends EdenResult>(request: Promise<R>): Promise<Exclude<R["data"], null>> {
  let result: { data: unknown; error: { status: unknown; value: unknown } | null };
  try {
    result = (await request) as typeof result;
  } catch (e) {
    throw new ApiError(0, "network", `the API is unreachable (${(e as Error).message})`);
  }
  if (result.error) {
    const status = typeof result.error.status === "number" ? result.error.status : 0;
    const v = result.error.value as { error?: string; message?: string } | string | null;
    if (v && typeof v === "object" && typeof v.message === "string")
      throw new ApiError(status, v.error ?? "error", v.message);
    throw new ApiError(status, "error", typeof v === "string" && v ? v : `HTTP ${status}`);
  }
  return result.data as Exclude<R["data"], null>;
}

/** Text for an error from anywhere: the API's message as it words it. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return e instanceof Error ? e.message : String(e);
}
