import { describe, expect, test } from "bun:test";
import { startSimulator } from "./index.ts";

describe("simulator control endpoints and CLI", () => {
  test("POST /_sim/faults injects, refuses bad faults with 400; GET /_sim/stats returns stats()", async () => {
    const sim = await startSimulator({ eventsPerSecond: 10 });
    const base = `http://127.0.0.1:${sim.port}/_sim`;
    const post = (body: string) => fetch(`${base}/faults`, { method: "POST", body });
    expect((await post(JSON.stringify({ venue: "binance", fault: "rest-status", status: 418 }))).status).toBe(
      200,
    );
    expect((await fetch(`${base}/faults`).then((r) => r.json())).active).toEqual([
      expect.objectContaining({ venue: "binance", fault: "rest-status", status: 418, count: 1 }),
    ]);
    expect((await fetch(`${sim.urls.binanceRest}/api/v3/depth?symbol=ETHUSDT`)).status).toBe(418);
    const bad = await post(JSON.stringify({ venue: "binance", fault: "explode" }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toContain("fault must be one of");
    expect((await post("{")).status).toBe(400);
    const stats = await fetch(`${base}/stats`).then((r) => r.json());
    expect(stats.binance.restRequests).toBe(1);
    expect(Object.keys(stats.kraken.bookTop)).toContain("BTC/USD");
    expect(stats.binance.bookTop.BTCUSDT.bid).toMatch(/^\d+\.\d{2}$/);
    expect((await fetch(`http://127.0.0.1:${sim.port}/nope`)).status).toBe(404);
    await sim.stop();
  });

  test("bun sim/main.ts logs its URLs as JSON and stops on SIGTERM", async () => {
    const proc = Bun.spawn(["bun", `${import.meta.dir}/main.ts`], {
      env: { ...process.env, SIM_PORT: "0", SIM_SEED: "3", SIM_EVENTS_PER_SECOND: "5" },
      stderr: "pipe",
      stdout: "ignore",
    });
    try {
      const reader = proc.stderr.getReader();
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      const line = JSON.parse(text.split("\n")[0]!);
      expect(line).toMatchObject({ level: "info", msg: "simulator listening", service: "sim", seed: 3 });
      expect(line.kraken).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/kraken\/v2$/);
      const ws = new WebSocket(line.kraken);
      await new Promise((r) => ws.addEventListener("message", r, { once: true }));
      ws.close();
      reader.releaseLock();
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill();
    }
  });
});
