// The probe listener every process runs (issue 8: /metrics must not be open to the network by accident;
// issue 15: /health and /ready for process managers and load balancers).
import { expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { MetricsExposureError, MetricsRegistry, probeResponse, serveMetrics } from "./metrics.ts";

const TOKEN = "t0ken-of-sixteen-chars";

function registry() {
  const r = new MetricsRegistry();
  r.counter("demo_total", "a demo").labels().inc(3);
  return r;
}

/** A non-loopback IPv4 address of this machine, to call from "the network". */
function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return undefined;
}

test("binds 127.0.0.1 by default; another address without a token is refused at start", () => {
  using server = serveMetrics(registry(), 0, { env: {} });
  expect(server.hostname).toBe("127.0.0.1");
  expect(() => serveMetrics(registry(), 0, { env: { TAPEWIRE_METRICS_HOST: "0.0.0.0" } })).toThrow(
    MetricsExposureError,
  );
  expect(() => serveMetrics(registry(), 0, { hostname: "0.0.0.0", env: {} })).toThrow(
    "TAPEWIRE_METRICS_TOKEN",
  );
});

test("with TAPEWIRE_METRICS_TOKEN, /metrics needs the bearer token; /health and /ready stay open", async () => {
  using server = serveMetrics(registry(), 0, {
    env: { TAPEWIRE_METRICS_HOST: "0.0.0.0", TAPEWIRE_METRICS_TOKEN: TOKEN },
  });
  const base = `http://127.0.0.1:${server.port}`;
  expect((await fetch(`${base}/metrics`)).status).toBe(401);
  expect(
    (await fetch(`${base}/metrics`, { headers: { authorization: "Bearer wrong-token-of-16ch" } })).status,
  ).toBe(401);
  const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(ok.status).toBe(200);
  expect(await ok.text()).toContain("tapewire_demo_total 3");
  expect((await fetch(`${base}/health`)).status).toBe(200);
  expect((await fetch(`${base}/ready`)).status).toBe(200);
});

test("a short token is a configuration error naming the variable, without echoing it", () => {
  expect(() => serveMetrics(registry(), 0, { env: { TAPEWIRE_METRICS_TOKEN: "short" } })).toThrow(
    "TAPEWIRE_METRICS_TOKEN: expected at least 16 characters",
  );
});

test("/ready answers the process's own check: 503 naming what is not ready, 200 when all is", async () => {
  let relay = false;
  using server = serveMetrics(registry(), 0, {
    env: {},
    ready: () => ({ ready: relay, checks: { relay } }),
  });
  const ready = () => fetch(`http://127.0.0.1:${server.port}/ready`);
  let res = await ready();
  expect(res.status).toBe(503);
  expect(await res.json()).toEqual({ ready: false, checks: { relay: false } });
  relay = true;
  res = await ready();
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ready: true, checks: { relay: true } });
  const health = await (await fetch(`http://127.0.0.1:${server.port}/health`)).json();
  expect(health).toMatchObject({ ok: true });
});

test("a check that throws is not ready (503), not a 500", async () => {
  const res = await probeResponse(new Request("http://x/ready"), registry(), {
    ready: () => {
      throw new Error("database probe exploded");
    },
  });
  expect(res?.status).toBe(503);
  expect(await res?.json()).toEqual({ ready: false, checks: { error: "database probe exploded" } });
});

test("a shared public listener answers /metrics to loopback callers only", async () => {
  const lan = lanAddress();
  expect(lan).toBeDefined();
  using server = Bun.serve({
    port: 0,
    hostname: "0.0.0.0",
    async fetch(req, srv) {
      const r = await probeResponse(req, registry(), { loopbackOnly: true }, srv.requestIP(req)?.address);
      return r ?? new Response("no", { status: 404 });
    },
  });
  expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(200);
  const remote = await fetch(`http://${lan}:${server.port}/metrics`);
  expect(remote.status).toBe(403);
  expect((await fetch(`http://${lan}:${server.port}/health`)).status).toBe(200);
});

test("every registry carries this process's memory and CPU, for the memory-growth alert", () => {
  const text = new MetricsRegistry().render();
  expect(text).toMatch(/^tapewire_process_resident_memory_bytes \d+$/m);
  expect(text).toMatch(/^tapewire_process_cpu_seconds [\d.]+$/m);
  expect(text).toMatch(/^tapewire_process_start_time_seconds [\d.]+$/m);
});
