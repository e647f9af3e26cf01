// Multi-host proof of the link (issue 13): three network namespaces joined by veth pairs stand in for hosts:
// the NATS server on one, the exporting link on a second, the importing link on a third (addresses 10.231.x.y,
// only inside namespaces this test creates). Relays and the frame source run in the test's own namespace:
// they speak only Unix sockets, so the one thing crossing "hosts" is the link's TCP to NATS. Fault: each
// host's link down for 4 s, the NATS server restarted, the importing link kill -9'd, all under ~10k frames/s;
// then every trade must have arrived once, in order (the per-fault table is printed).
// Needs root (ip netns); skipped loudly otherwise.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { linkEnv, spawnLink, startNatsServer, TradeSource } from "../link/testing.ts";
import { connectRelayConsumer } from "../relay/client.ts";
import { connectRelayProducer } from "../relay/producer.ts";
import { startRelayProcess, waitFor } from "../relay/testing.ts";
import { Exchange, frameId, frameKind, Kind } from "../schema/frame.ts";

const tag = String(process.pid % 10000);
const NS = { nats: `twn${tag}`, exp: `twe${tag}`, imp: `twi${tag}` };
const ip = (...args: string[]) => spawnSync(["ip", ...args], { stderr: "pipe" });
const inNs = (ns: string, ...args: string[]) => ip("netns", "exec", ns, "ip", ...args);
const must = (r: ReturnType<typeof ip>, what: string) => {
  if (r.exitCode !== 0) throw new Error(`${what}: ${r.stderr.toString()}`);
};

/** Create the three namespaces and two veth pairs; false when ip netns is not permitted here. */
function buildHosts(): boolean {
  const probe = ip("netns", "add", NS.nats);
  if (probe.exitCode !== 0) {
    console.warn(`SKIPPED netns e2e: "ip netns add" not permitted: ${probe.stderr.toString().trim()}`);
    return false;
  }
  must(ip("netns", "add", NS.exp), "netns exp");
  must(ip("netns", "add", NS.imp), "netns imp");
  for (const ns of Object.values(NS)) must(inNs(ns, "link", "set", "lo", "up"), `lo up in ${ns}`);
  const pairs = [
    { ns: NS.exp, a: `${NS.exp}a`, b: `${NS.exp}b`, net: "10.231.1" },
    { ns: NS.imp, a: `${NS.imp}a`, b: `${NS.imp}b`, net: "10.231.2" },
  ];
  for (const p of pairs) {
    must(
      ip("link", "add", p.a, "netns", NS.nats, "type", "veth", "peer", "name", p.b, "netns", p.ns),
      "veth",
    );
    must(inNs(NS.nats, "addr", "add", `${p.net}.1/24`, "dev", p.a), "addr nats side");
    must(inNs(p.ns, "addr", "add", `${p.net}.2/24`, "dev", p.b), "addr host side");
    must(inNs(NS.nats, "link", "set", p.a, "up"), "up nats side");
    must(inNs(p.ns, "link", "set", p.b, "up"), "up host side");
  }
  return true;
}

function dropHosts(): void {
  for (const ns of Object.values(NS)) ip("netns", "del", ns);
}

/** The host's only link (its veth end) down for 4 s: the outage itself is the fault, so it is a sleep. */
async function linkDown(ns: string): Promise<void> {
  must(inNs(ns, "link", "set", `${ns}b`, "down"), "link down");
  await Bun.sleep(4000);
  must(inNs(ns, "link", "set", `${ns}b`, "up"), "link up");
}

const permitted = process.getuid?.() === 0 && buildHosts();
afterAll(dropHosts);

describe.skipIf(!permitted)("link across network namespaces", () => {
  test(
    "relay → export ⇢ NATS ⇢ import → relay, under faults: links down, NATS restart, importer kill -9",
    async () => {
      const port = 4333;
      await using nats = await startNatsServer({
        port,
        host: "0.0.0.0",
        wrap: ["ip", "netns", "exec", NS.nats],
        probeUrl: `nats://10.231.1.1:${port}`,
        probeWrap: ["ip", "netns", "exec", NS.exp],
      });
      const env = linkEnv({ TAPEWIRE_LINK_BATCH_FRAMES: "100", TAPEWIRE_LINK_EXCHANGES: "binance" });
      await using relayA = await startRelayProcess();
      await using relayB = await startRelayProcess();
      const ids: number[] = [];
      const tapB = connectRelayConsumer({
        path: relayB.outPath,
        reconnectMinMs: 10,
        onFrame(view, offset) {
          if (frameKind(view, offset) === Kind.Trade) ids.push(frameId(view, offset));
        },
      });
      await using _exp = await spawnLink(
        "export",
        { ...env, TAPEWIRE_NATS_URL: `nats://10.231.1.1:${port}`, TAPEWIRE_RELAY_OUT: relayA.outPath },
        ["ip", "netns", "exec", NS.exp],
      );
      const importEnv = {
        ...env,
        TAPEWIRE_NATS_URL: `nats://10.231.2.1:${port}`,
        TAPEWIRE_RELAY_IN: relayB.inPath,
      };
      let imp = await spawnLink("import", importEnv, ["ip", "netns", "exec", NS.imp]);
      await using producer = await connectRelayProducer({ path: relayA.inPath });
      const source = new TradeSource(Exchange.Binance);
      let sending = true;
      const pump = (async () => {
        while (sending) {
          producer.send(source.next(20)); // ~10k frames/s
          await producer.drained();
          await Bun.sleep(2);
        }
      })();
      const windows: Array<{ fault: string; from: number; to: number }> = [];
      const faults: Array<[string, () => Promise<void>]> = [
        ["exporter host link down 4 s", () => linkDown(NS.exp)],
        ["importer host link down 4 s", () => linkDown(NS.imp)],
        ["NATS server restarted (1 s down)", () => nats.restart(1000)],
        [
          "importing link kill -9, restarted",
          async () => {
            imp.proc.kill("SIGKILL");
            await imp.proc.exited;
            imp = await spawnLink("import", importEnv, ["ip", "netns", "exec", NS.imp]);
          },
        ],
      ];
      for (const [fault, run] of faults) {
        await waitFor(() => ids.length > 1000 && ids.length > source.sent - 5000, "trades flowing", 30_000);
        const from = source.sent;
        await run();
        const before = ids.length;
        await waitFor(() => ids.length > before + 1000, `trades flowing after: ${fault}`, 40_000);
        windows.push({ fault, from, to: source.sent });
      }
      sending = false;
      await pump;
      const total = source.sent - 1;
      await waitFor(() => ids.length >= total, `${total} trades at the far relay`, 40_000);
      const seen = new Uint8Array(source.sent);
      for (const id of ids) seen[id] = Math.min(255, seen[id]! + 1);
      const table = windows.map((w) => {
        let lost = 0;
        let duplicated = 0;
        for (let id = Math.max(1, w.from); id < w.to; id++) {
          if (seen[id] === 0) lost++;
          if (seen[id]! > 1) duplicated += seen[id]! - 1;
        }
        return { fault: w.fault, trades: w.to - w.from, lost, duplicated };
      });
      console.log(JSON.stringify({ total, table }));
      await imp[Symbol.asyncDispose]();
      expect(ids).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      tapB.close();
    },
    { timeout: 150_000, retry: 1 },
  ); // namespaces, a private NATS and five processes on 2 vCPUs: one retry
});
