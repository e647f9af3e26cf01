// Request size limits, answered as JSON like every other error. Bun's own limits answer an empty 413/431,
// so ours sit below them: a body's Content-Length is checked before any of it is read (Bun's own body
// limit is lifted in main.ts: an unread body is discarded, not buffered), chunked bodies are refused
// (411: every JSON client sends a length), and the URL and header sizes are checked under Bun's request-head limit (16 KiB unless bun
// runs with --max-http-header-size); only a head beyond Bun's limit still gets Bun's empty 431.
import { Elysia } from "elysia";

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_URL_BYTES = 8 * 1024;
export const MAX_HEADER_BYTES = 12 * 1024;
/** Bun's limit, lifted so that every oversized body reaches limitResponse (and gets JSON). */
export const BUN_MAX_BODY_BYTES = Number.MAX_SAFE_INTEGER;

const json = (status: number, error: string, message: string) =>
  new Response(JSON.stringify({ error, message }), {
    status,
    headers: { "content-type": "application/json", connection: "close" },
  });

function headerBytes(headers: Headers): number {
  let n = 0;
  headers.forEach((value, name) => {
    n += name.length + value.length + 4;
  });
  return n;
}

/** The first limit a request breaks, as the response to send, or undefined. */
export function limitResponse(request: Request): Response | undefined {
  if (request.url.length > MAX_URL_BYTES)
    return json(414, "uri_too_long", `the URL is longer than ${MAX_URL_BYTES} bytes`);
  if (headerBytes(request.headers) > MAX_HEADER_BYTES)
    return json(431, "headers_too_large", `the request headers exceed ${MAX_HEADER_BYTES} bytes`);
  const length = request.headers.get("content-length");
  if (length !== null) {
    if (!/^\d{1,15}$/.test(length)) return json(400, "bad_request", "Content-Length is not a number");
    if (Number(length) > MAX_BODY_BYTES)
      return json(413, "payload_too_large", `the request body is larger than ${MAX_BODY_BYTES} bytes`);
  } else if (request.headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
    return json(411, "length_required", `send Content-Length (bodies are at most ${MAX_BODY_BYTES} bytes)`);
  }
  return undefined;
}

export function requestLimits() {
  return new Elysia({ name: "tapewire-request-limits" }).onRequest(({ request }) => limitResponse(request));
}
