// `bun run bench:api`: latency of the warm API under 200 connections (autocannon), for recent trades and
// 1-minute candles, beside a reference measured in the same run: a bare Bun.serve process answering the
// same bytes (the floor of HTTP + the load generator on this machine).
//
// It creates a scratch database (BENCH_DATABASE_URL, default the test server), seeds BENCH_HOURS of trades
// on two exchanges, starts `bun api/main.ts` as a child process and loads it from this one. Two load shapes:
// - paced: 200 keep-alive connections, each sending on a fixed schedule so the total is BENCH_RATES req/s;
//   latency is measured from the scheduled send time (no coordinated omission). autocannon's own rate
//   option sends each second's quota in a burst, which measures its bursts, not the server, so this
//   small raw-socket client does the pacing.
// - saturation: autocannon, closed loop, 200 connections: throughput. There latency is queueing
//   (Little's law: latency ~ connections / throughput), for the reference as for the API.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import autocannon from "autocannon";
import postgres from "postgres";
import { createLogger } from "../lib/log.ts";
import { migrate } from "../schema/db/migrate.ts";

const ADMIN = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATES = (process.env.BENCH_RATES ?? "2000,5000").split(",").map(Number);
const HOURS = Number(process.env.BENCH_HOURS ?? 3);
const TRADES_PER_S = 20; // per exchange
const ROOT = join(import.meta.dir, "..");

const ROUTES = {
  "recent trades": "/api/market/trades?symbol=BTC-USD&exchange=coinbase&limit=100",
  "1m candles": "/api/market/candles?symbol=BTC-USD&exchange=coinbase&interval=1m&limit=60",
};

interface Row {
  target: string;
  load: string;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
}

async function freePort(): Promise<number> {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

async function waitHttp(url: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await Bun.sleep(50);
  }
}

async function saturate(url: string, target: string): Promise<Row> {
  await (await fetch(url)).text(); // warm, as in paced()
  return await new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, pipelining: 1 }, (error, r) => {
      if (error) return reject(error);
      resolve({
        target,
        load: "saturation",
        rps: Math.round(r.requests.average),
        p50: r.latency.p50,
        p90: r.latency.p90,
        p99: r.latency.p99,
        max: r.latency.max,
        errors: r.errors + r.timeouts + r.non2xx,
      });
    });
  });
}

/** Paced load over raw keep-alive sockets; latency from each request's scheduled time. */
async function paced(port: number, path: string, target: string, rate: number): Promise<Row> {
  // Warm the cache first: a run measures steady state, not the one cold query at its start (with the default
  // 1 s TTL and 2 s grace, a key goes cold while the other targets are measured).
  await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
  const intervalMs = (CONNECTIONS * 1000) / rate;
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now() + 300; // connect first, then start the clock
  const end = start + DURATION_S * 1000;
  type State = { k: number; due: number; buf: Buffer; pending: Buffer | null; offset: number };
  return await new Promise((resolve) => {
    let open = CONNECTIONS;
    const finish = () => {
      if (--open > 0) return;
      latencies.sort((a, b) => a - b);
      const q = (p: number) =>
        Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 100) /
        100;
      resolve({
        target,
        load: `paced ${rate} req/s`,
        rps: Math.round(latencies.length / DURATION_S),
        p50: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        max: q(1),
        errors,
      });
    };
    const send = (socket: { write(b: Buffer): number; end(): void; data: State }) => {
      const st = socket.data;
      st.due = start + st.offset + st.k * intervalMs;
      if (st.due >= end) {
        socket.end();
        return;
      }
      setTimeout(
        () => {
          // A timer that fires early would make latency negative: then measure from the send.
          st.due = Math.min(st.due, performance.now());
          const n = socket.write(request);
          if (n < request.length) st.pending = request.subarray(Math.max(0, n)); // sent on drain
        },
        Math.max(0, st.due - performance.now()),
      );
    };
    for (let c = 0; c < CONNECTIONS; c++) {
      Bun.connect<State>({
        hostname: "127.0.0.1",
        port,
        data: { k: 0, due: 0, buf: Buffer.alloc(0), pending: null, offset: (c * intervalMs) / CONNECTIONS },
        socket: {
          open: (socket) => send(socket),
          drain(socket) {
            const st = socket.data;
            if (!st.pending) return;
            const n = socket.write(st.pending);
            st.pending = n < st.pending.length ? st.pending.subarray(Math.max(0, n)) : null;
          },
          data(socket, chunk) {
            const st = socket.data;
            st.buf = st.buf.length ? Buffer.concat([st.buf, chunk]) : chunk;
            const head = st.buf.indexOf("\r\n\r\n");
            if (head < 0) return;
            const headers = st.buf.subarray(0, head).toString("latin1");
            const length = Number(/content-length: *(\d+)/i.exec(headers)?.[1] ?? Number.NaN);
            if (Number.isNaN(length)) throw new Error(`no content-length from ${target}`);
            if (st.buf.length < head + 4 + length) return;
            if (!headers.startsWith("HTTP/1.1 200")) errors++;
            latencies.push(performance.now() - st.due);
            st.buf = st.buf.subarray(head + 4 + length);
            st.k++;
            send(socket);
          },
          close: () => finish(),
          error: () => {
            errors++;
          },
        },
      }).catch(() => {
        errors++;
        finish();
      });
    }
  });
}

async function seed(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const perExchange = HOURS * 3600 * TRADES_PER_S;
  const step = 1000 / TRADES_PER_S;
  // Two exchanges of BTC-USD ending now, a gently moving exact price, 8-decimal sizes.
  await sql.unsafe(`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
    SELECT now() - g * interval '${step} milliseconds', e, 1, g,
      round((64000 + 250 * sin(g / 3000.0) + (g % 17) * 0.01)::numeric, 2),
      round(((g % 997) / 997.0 + 0.0001)::numeric, 8),
      CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END, g, 0
    FROM generate_series(1, ${perExchange}) g, (VALUES (1), (2)) x(e)`);
  await sql`ANALYZE trades`;
  await sql.end();
  return perExchange * 2;
}

async function main(): Promise<void> {
  const log = createLogger({ svc: "bench-api" });
  const name = `tw_bench_api_${randomBytes(4).toString("hex")}`;
  const admin = postgres(ADMIN, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(ADMIN);
  dbUrl.pathname = `/${name}`;
  const children: ReturnType<typeof Bun.spawn>[] = [];
  const prefix = `bench:${randomBytes(4).toString("hex")}:`;
  try {
    await migrate(dbUrl.toString(), { log: createLogger({}, () => {}), env: {} });
    const rows = await seed(dbUrl.toString());
    log.info("seeded", { rows, hours: HOURS });

    const apiPort = await freePort();
    const api = Bun.spawn([process.execPath, join(ROOT, "api/main.ts")], {
      env: {
        ...process.env,
        API_PORT: String(apiPort),
        API_HOST: "127.0.0.1",
        DATABASE_URL: dbUrl.toString(),
        REDIS_URL,
        API_REDIS_PREFIX: prefix,
        JWT_SECRET: randomBytes(32).toString("hex"),
        API_MATCHER_MS: "0",
        API_DB_POOL: "10",
        LOG_LEVEL: "warn",
      },
      stdout: "inherit",
      stderr: "inherit",
    });
    children.push(api);
    const base = `http://127.0.0.1:${apiPort}`;
    await waitHttp(`${base}/health`);

    // The reference: the same response bytes from a bare Bun.serve in its own process.
    const body = await (await fetch(base + ROUTES["recent trades"])).text();
    const refPort = await freePort();
    const ref = Bun.spawn(
      [
        process.execPath,
        "-e",
        `const body = ${JSON.stringify(body)}; Bun.serve({ hostname: "127.0.0.1", port: ${refPort}, fetch: () => new Response(body, { headers: { "content-type": "application/json" } }) });`,
      ],
      { stdout: "inherit", stderr: "inherit" },
    );
    children.push(ref);
    await waitHttp(`http://127.0.0.1:${refPort}/`);

    // Rounds interleave the reference and the API so a noisy neighbour hits both; the table shows medians.
    const results: Row[] = [];
    const REF = "reference: bare Bun.serve, same bytes";
    for (let round = 0; round < ROUNDS; round++) {
      for (const rate of RATES) {
        results.push(await paced(refPort, "/", REF, rate));
        for (const [label, path] of Object.entries(ROUTES))
          results.push(await paced(apiPort, path, `API ${label}`, rate));
      }
      results.push(await saturate(`http://127.0.0.1:${refPort}/`, REF));
      for (const [label, path] of Object.entries(ROUTES))
        results.push(await saturate(base + path, `API ${label}`));
    }

    const groups = new Map<string, Row[]>();
    for (const r of results)
      groups.set(`${r.target}|${r.load}`, [...(groups.get(`${r.target}|${r.load}`) ?? []), r]);
    const median = (rows: Row[], f: (r: Row) => number) => {
      const v = rows.map(f).sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)]!;
    };
    const lines = [...groups.values()].map((g) => {
      const m = (f: (r: Row) => number) => median(g, f);
      const errors = g.reduce((sum, r) => sum + r.errors, 0);
      return `| ${g[0]!.target} | ${g[0]!.load} | ${m((r) => r.rps)} | ${m((r) => r.p50)} | ${m((r) => r.p90)} | ${m((r) => r.p99)} | ${m((r) => r.max)} | ${errors} |`;
    });
    const header = `| target | load (${CONNECTIONS} connections) | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |`;
    const load = (
      await Bun.file("/proc/loadavg")
        .text()
        .catch(() => "?")
    )
      .split(" ")
      .slice(0, 3)
      .join(" ");
    console.log(
      [
        `API benchmark, ${new Date().toISOString()}, Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs ` +
          `(load average at the end: ${load}), ${rows} trades seeded; medians of ${ROUNDS} interleaved rounds of ` +
          `${DURATION_S}s; load generator in the bench process, API and reference in their own`,
        "",
        header,
        "|---|---|---|---|---|---|---|---|",
        ...lines,
      ].join("\n"),
    );
    if (process.env.API_BENCH_JSON)
      await Bun.write(process.env.API_BENCH_JSON, JSON.stringify({ results }, null, 2));
  } finally {
    for (const child of children) child.kill();
    await Promise.all(children.map((c) => c.exited));
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    const { Redis } = await import("ioredis");
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
}

await main();
