// The HTTP edge over a real socket (Bun's own limits only exist there): oversized requests get JSON like
// every other error, security headers on every response, 405 with Allow, /metrics access, CORS.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestApi, type TestApi } from "../test/harness.ts";
import { BUN_MAX_BODY_BYTES, MAX_BODY_BYTES } from "./limits.ts";

let api: TestApi;
let base: string;
let tokenApi: TestApi;
beforeAll(async () => {
  api = await startTestApi({ API_ALLOWED_ORIGINS: "https://dash.example.com" });
  api.app.listen({ port: 0, hostname: "127.0.0.1", maxRequestBodySize: BUN_MAX_BODY_BYTES });
  base = `http://127.0.0.1:${api.app.server?.port}`;
  tokenApi = await startTestApi({ API_METRICS_TOKEN: "metrics-token-0123456789" }, api.db);
});
afterAll(async () => {
  await api.app.stop();
  await tokenApi.close();
  await api.close();
});

async function expectJsonError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as { error: string; message: string };
  expect(body.error).toBe(error);
  expect(body.message).toBeString();
}

describe("oversized requests are JSON errors", () => {
  test("a body over the limit: 413 JSON, also far beyond it", async () => {
    for (const size of [MAX_BODY_BYTES + 1, 5 * 1024 * 1024]) {
      const res = await fetch(`${base}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: `{"email":"${"a".repeat(size)}"}`,
      });
      await expectJsonError(res, 413, "payload_too_large");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  test("a chunked body (no Content-Length): 411 JSON", async () => {
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"email":"x"}'));
        c.close();
      },
    });
    const res = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    await expectJsonError(res, 411, "length_required");
  });

  test("a long URL: 414 JSON; large headers: 431 JSON", async () => {
    await expectJsonError(
      await fetch(`${base}/api/market/trades?symbol=${"A".repeat(9000)}`),
      414,
      "uri_too_long",
    );
    await expectJsonError(
      await fetch(`${base}/health`, { headers: { "x-padding": "a".repeat(13 * 1024) } }),
      431,
      "headers_too_large",
    );
  });

  test("a body just under the limit is read and validated as usual", async () => {
    const res = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "a".repeat(MAX_BODY_BYTES - 100), password: "x" }),
    });
    await expectJsonError(res, 422, "validation");
  });
});

describe("security headers on every response", () => {
  test.each(["/health", "/api/market/instruments", "/api/nope", "/openapi/json", "/", "/openapi"])(
    "%s",
    async (path) => {
      const res = await fetch(`${base}${path}`);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      const csp = res.headers.get("content-security-policy") ?? "";
      if (path === "/openapi") expect(csp).toContain("script-src 'self' https://cdn.jsdelivr.net");
      else if (path === "/") expect(csp).toContain("script-src 'self';");
      else expect(csp).toStartWith("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
    },
  );
});

describe("methods", () => {
  test("a known path with another method is 405 with Allow", async () => {
    // (Bun's fetch drops the body of a TRACE response; curl shows the same JSON as below.)
    const trace = await fetch(`${base}/api/market/trades?symbol=BTC-USD`, { method: "TRACE" });
    expect(trace.status).toBe(405);
    expect(trace.headers.get("allow")).toBe("GET, HEAD");
    const del = await fetch(`${base}/api/auth/login`, { method: "DELETE" });
    await expectJsonError(del, 405, "method_not_allowed");
    expect(del.headers.get("allow")).toBe("POST");
    const param = await fetch(`${base}/api/portfolios/${crypto.randomUUID()}`, { method: "PUT" });
    expect(param.status).toBe(405);
    expect(param.headers.get("allow")).toContain("PATCH");
    expect((await fetch(`${base}/api/no-such-thing`, { method: "TRACE" })).status).toBe(404);
  });
});

describe("/metrics", () => {
  test("loopback clients only by default", async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("tapewire_api_requests_total");
    // Through app.handle there is no socket address: not loopback, refused.
    const remote = await api.call("GET", "/metrics", { headers: { "x-forwarded-for": "203.0.113.9" } });
    expect(remote.status).toBe(403);
  });

  test("with API_METRICS_TOKEN: the token, from anywhere", async () => {
    expect((await tokenApi.call("GET", "/metrics")).status).toBe(403);
    expect((await tokenApi.call("GET", "/metrics", { token: "wrong-token-0123456789" })).status).toBe(403);
    const ok = await tokenApi.call("GET", "/metrics", { token: "metrics-token-0123456789" });
    expect(ok.status).toBe(200);
  });
});

describe("CORS", () => {
  test("an allowed origin gets credentials CORS and a preflight answer", async () => {
    const pre = await fetch(`${base}/api/auth/refresh`, {
      method: "OPTIONS",
      headers: { origin: "https://dash.example.com", "access-control-request-method": "POST" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://dash.example.com");
    expect(pre.headers.get("access-control-allow-credentials")).toBe("true");
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
    const get = await fetch(`${base}/health`, { headers: { origin: "https://dash.example.com" } });
    expect(get.headers.get("access-control-allow-origin")).toBe("https://dash.example.com");
  });

  test("any other origin gets no CORS headers, and its preflight is refused", async () => {
    const get = await fetch(`${base}/health`, { headers: { origin: "https://evil.example" } });
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await fetch(`${base}/api/auth/refresh`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    await expectJsonError(pre, 403, "forbidden");
  });
});

describe("the served OpenAPI document", () => {
  test("integers are integers (no string/integer anyOf), no internal keys, cookie-flow bodies optional", async () => {
    const text = await fetch(`${base}/openapi/json`).then((r) => r.text());
    expect(text).not.toContain('"format":"integer"');
    expect(text).not.toContain('"error":"limit must be');
    const doc = JSON.parse(text);
    expect(
      doc.paths["/api/market/trades"].get.parameters.find((p: { name: string }) => p.name === "limit").schema,
    ).toEqual({
      minimum: 1,
      maximum: 1000,
      default: 100,
      type: "integer",
    });
    expect(doc.paths["/api/auth/logout"].post.requestBody.required).toBe(false);
    expect(Object.keys(doc.paths["/api/auth/logout"].post.responses)).toContain("400");
  });
});
