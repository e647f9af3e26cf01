// The bridge process end to end: a relay socket (played by this test, as the relay would: raw 48-byte frames
// in arbitrary chunks) → `bun bridge/main.ts` → a WebSocket client and Postgres; SIGTERM stores what is pending.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Socket, UnixSocketListener } from "bun";
import { Exchange } from "../schema/frame.ts";
import { Frames, freshDatabase, TestClient, type TestDatabase } from "./testing.ts";

const root = resolve(import.meta.dir, "..");
const dir = mkdtempSync(join(tmpdir(), "tw-bridge-main-"));
const sockPath = join(dir, "relay-out.sock");
let db: TestDatabase;
let relay: UnixSocketListener<undefined>;
const consumers = new Set<Socket<undefined>>();
let filterLines = "";
let filterSeen: () => void = () => {};
const gotFilter = new Promise<void>((r) => {
  filterSeen = r;
});

beforeAll(async () => {
  db = await freshDatabase();
  relay = Bun.listen<undefined>({
    unix: sockPath,
    socket: {
      open: (s) => void consumers.add(s),
      data: (_s, d) => {
        filterLines += Buffer.from(d).toString();
        // Both consumers: the live WebSocket one and the database writer's (which resumes from relay_positions).
        if (filterLines.includes('"name":"bridge"') && filterLines.includes('"name":"bridge-db"'))
          filterSeen();
      },
      close: (s) => void consumers.delete(s),
    },
  });
});
afterAll(async () => {
  relay.stop(true);
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

test("relay frames reach a WebSocket client and the database; SIGTERM writes what is pending", async () => {
  const proc = Bun.spawn(["bun", "bridge/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      TAPEWIRE_RELAY_OUT: sockPath,
      BRIDGE_PORT: "0",
      BRIDGE_HOST: "127.0.0.1",
      BRIDGE_METRICS_PORT: "0",
      DATABASE_URL: db.url,
      BRIDGE_SPOOL_DIR: join(dir, "spool"),
      BRIDGE_BATCH_MS: "60000", // only shutdown seals the batch: it must not be lost
    },
    stderr: "pipe",
    stdout: "inherit",
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  (async () => {
    let rest = "";
    for await (const chunk of proc.stderr as unknown as AsyncIterable<Uint8Array>) {
      const lines = (rest + Buffer.from(chunk).toString()).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) if (l.startsWith("{")) logs.push(JSON.parse(l));
      for (const w of waiters.splice(0)) w();
    }
  })();
  const logged = (msg: string) =>
    new Promise<Record<string, unknown>>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no "${msg}" log; got ${JSON.stringify(logs)}`)), 15_000);
      const check = () => {
        const hit = logs.find((l) => l.msg === msg);
        if (hit) {
          clearTimeout(timer);
          res(hit);
        } else waiters.push(check);
      };
      check();
    });
  try {
    const listening = await logged("bridge listening");
    await logged("relay connected");
    await gotFilter;
    expect(filterLines).toContain('"name":"bridge"');
    // A fresh database: the writer asks for everything the journal holds.
    expect(filterLines).toMatch(/"name":"bridge-db".*"fromTime":"0"/);
    const client = await TestClient.connect(`ws://127.0.0.1:${listening.port}/ws`);
    await client.request({ op: "subscribe", exchanges: ["kraken"], symbols: ["BTC-USD"], kinds: ["trade"] });

    const frames = new Frames();
    for (let id = 1; id <= 300; id++) frames.trade(Exchange.Kraken, 1, id, 6000000 + id, 1000 + id);
    const bytes = frames.bytes();
    // Chunks that cut frames in the middle, as a socket may.
    for (let at = 0; at < bytes.length; at += 1000) {
      for (const c of consumers) c.write(bytes.subarray(at, Math.min(at + 1000, bytes.length)));
    }
    await client.waitFor(() => client.of("trade").length === 300);
    expect(client.of("trade")[299]).toMatchObject({ price: "60003", size: "0.000013", tradeId: "300" });

    const metrics = await (await fetch(`http://127.0.0.1:${listening.metricsPort}/metrics`)).text();
    expect(metrics).toContain('tapewire_bridge_frames_in_total{kind="trade"} 300');
    expect(metrics).toContain("tapewire_bridge_clients 1");
    client.close();

    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const [row] = await db.sql`SELECT count(*)::int AS n, trim_scale(sum(size))::text AS total FROM trades`;
    expect(row).toEqual({ n: 300, total: String((300 * 1000 + (300 * 301) / 2) / 1e8) });
  } finally {
    proc.kill("SIGKILL");
  }
}, 30_000);
