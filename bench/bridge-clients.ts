// Benchmark WebSocket clients in their own process (so their JSON work does not share the bridge's thread).
// Usage: bun bench/bridge-clients.ts <ws-url> <clients> <expected-trades-per-client> <timeout-ms>
// Prints {"ready":true} once every client is subscribed, then one JSON result line when each has its trades.
import { nowNs } from "../schema/clock.ts";

const [url, countArg, expectedArg, timeoutArg] = process.argv.slice(2);
const clients = Number(countArg);
const expected = Number(expectedArg);
const received = new Array<number>(clients).fill(0);
const latencies: number[] = [];
let done = 0;
let firstAt = 0;
let lastAt = 0;
const TRADE = '"type":"trade"';
const TS = '"tsRecv":"';

function onMessage(i: number, text: string): void {
  if (firstAt === 0) firstAt = performance.now();
  let n = 0;
  for (let at = text.indexOf(TRADE); at !== -1; at = text.indexOf(TRADE, at + TRADE.length)) n++;
  if (n === 0) return;
  // Latency of the newest trade in this WebSocket message: its relay receive stamp to now, host clock.
  const ts = text.lastIndexOf(TS);
  if (ts !== -1 && latencies.length < 2_000_000) {
    latencies.push((nowNs() - Number(text.slice(ts + TS.length, text.indexOf('"', ts + TS.length)))) / 1000);
  }
  const before = received[i]!;
  received[i] = before + n;
  if (before < expected && before + n >= expected && ++done === clients) finish();
}

function finish(): void {
  lastAt = performance.now();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  const total = received.reduce((a, b) => a + b, 0);
  console.log(
    JSON.stringify({
      done: true,
      total,
      seconds: (lastAt - firstAt) / 1000,
      p50us: q(0.5),
      p99us: q(0.99),
      samples: latencies.length,
    }),
  );
  process.exit(0);
}

let subscribed = 0;
for (let i = 0; i < clients; i++) {
  const ws = new WebSocket(url!);
  ws.onopen = () => ws.send(JSON.stringify({ op: "subscribe", kinds: ["trade"] }));
  ws.onmessage = (ev) => {
    const text = ev.data as string;
    if (text.startsWith('{"type":"subscribed"')) {
      if (++subscribed === clients) console.log(JSON.stringify({ ready: true }));
      return;
    }
    if (text.includes('"type":"error"')) console.error(text);
    onMessage(i, text);
  };
  ws.onclose = (ev) => {
    if (received[i]! < expected) {
      console.error(JSON.stringify({ closed: i, code: ev.code, received: received[i] }));
      process.exit(1);
    }
  };
}
setTimeout(() => {
  console.error(JSON.stringify({ timeout: true, received: received.slice(0, 5), done }));
  process.exit(2);
}, Number(timeoutArg));
