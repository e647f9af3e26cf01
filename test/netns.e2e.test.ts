// Multi-host proof of the link (issue 13). Three network namespaces joined by veth pairs stand in for hosts:
//   N: the NATS server (JetStream, its own store)
//   A: the exchange simulator, the kraken and binance collectors and the exporting link
//   B: the importing link
// Relays and the bridge speak only Unix sockets (and Postgres on this machine), so they run in the test's
// namespace; what crosses between hosts is the links' TCP to NATS. The path: sim → collectors → relay A →
// export ⇢ NATS ⇢ import → relay B (pass-through ingest, same seqs) → bridge → Postgres. Faults under load, one
// after another: the NATS server restarted; host A's link down for 30 s; host B's link down for 30 s; the
// importing relay kill -9'd (journal kept); the importing link kill -9'd. Then what the far bridge stored is
// compared with the simulator's ledger (GET /_sim/ledger), per fault window: every trade once, or exactly
// reported gaps (Gap / RelayGap frames at relay B, counted). The table is printed as JSON.
// Needs root (ip netns); skipped loudly otherwise. Names are prefixed twh5 so parallel runs do not collide.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Subprocess, spawn, spawnSync } from "bun";
import { freshDatabase } from "../lib/testing.ts";
import {
  type LinkProcess,
  linkEnv,
  spawnLink,
  startImportingRelay,
  startNatsServer,
} from "../link/testing.ts";
import { connectRelayConsumer } from "../relay/client.ts";
import { readLines, startRelayProcess, waitFor } from "../relay/testing.ts";
import {
  EXCHANGE_IDS,
  EXCHANGE_NAMES,
  frameExchange,
  frameId,
  frameInstrument,
  frameKind,
  framePrice,
  frameStatus,
  Kind,
  Status,
} from "../schema/frame.ts";
import { loadRegistry } from "../schema/instruments.ts";

const ROOT = join(import.meta.dir, "..");
const tag = String(process.pid % 10000);
const NS = { nats: `twh5n${tag}`, a: `twh5a${tag}`, b: `twh5b${tag}` };
/** Through relay A and the exporter; coinbase's collector publishes straight to JetStream instead. */
const VIA_RELAY = ["kraken", "binance"] as const;
const VENUES = [...VIA_RELAY, "coinbase"] as const;
const OUTAGE_MS = Number(process.env.NETNS_OUTAGE_MS ?? 30_000);
const ip = (...args: string[]) => spawnSync(["ip", ...args], { stderr: "pipe" });
const inNs = (ns: string, ...args: string[]) => ip("netns", "exec", ns, "ip", ...args);
const must = (r: ReturnType<typeof ip>, what: string) => {
  if (r.exitCode !== 0) throw new Error(`${what}: ${r.stderr.toString()}`);
};
const wrap = (ns: string) => ["ip", "netns", "exec", ns];

/** Create the three namespaces and two veth pairs (A–N, B–N); false when ip netns is not permitted here. */
function buildHosts(): boolean {
  const probe = ip("netns", "add", NS.nats);
  if (probe.exitCode !== 0) {
    console.warn(`SKIPPED netns e2e: "ip netns add" not permitted: ${probe.stderr.toString().trim()}`);
    return false;
  }
  must(ip("netns", "add", NS.a), "netns a");
  must(ip("netns", "add", NS.b), "netns b");
  for (const ns of Object.values(NS)) must(inNs(ns, "link", "set", "lo", "up"), `lo up in ${ns}`);
  const pairs = [
    { ns: NS.a, net: "10.235.1" },
    { ns: NS.b, net: "10.235.2" },
  ];
  for (const p of pairs) {
    const [n, h] = [`${p.ns}n`, `${p.ns}h`];
    must(ip("link", "add", n, "netns", NS.nats, "type", "veth", "peer", "name", h, "netns", p.ns), "veth");
    must(inNs(NS.nats, "addr", "add", `${p.net}.1/24`, "dev", n), "addr nats side");
    must(inNs(p.ns, "addr", "add", `${p.net}.2/24`, "dev", h), "addr host side");
    must(inNs(NS.nats, "link", "set", n, "up"), "up nats side");
    must(inNs(p.ns, "link", "set", h, "up"), "up host side");
  }
  return true;
}

function dropHosts(): void {
  for (const ns of Object.values(NS)) ip("netns", "del", ns);
}

/** A host's only link (its veth end) down for `ms`: the outage itself is the fault, so this one is a sleep. */
async function linkDown(ns: string, ms: number): Promise<void> {
  must(inNs(ns, "link", "set", `${ns}h`, "down"), "link down");
  await Bun.sleep(ms);
  must(inNs(ns, "link", "set", `${ns}h`, "up"), "link up");
}

/** A child process (maybe inside a namespace) whose JSON log lines are kept. */
class Proc {
  readonly logs: Record<string, unknown>[] = [];
  readonly proc: Subprocess<"ignore", "ignore", "pipe">;
  constructor(args: string[], env: Record<string, string>, ns?: string) {
    this.proc = spawn([...(ns ? wrap(ns) : []), "bun", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    void readLines(this.proc.stderr, (line) => {
      try {
        this.logs.push(JSON.parse(line));
      } catch {
        this.logs.push({ msg: line });
      }
    });
  }
  async waitLog(msg: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    let hit: Record<string, unknown> | undefined;
    await waitFor(
      () => {
        hit = this.logs.find((l) => l.msg === msg);
        if (!hit && this.proc.exitCode !== null) throw new Error(`exited: ${JSON.stringify(this.logs)}`);
        return hit !== undefined;
      },
      msg,
      timeoutMs,
    );
    return hit!;
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode === null) this.proc.kill("SIGTERM");
    await this.proc.exited;
  }
}

type Ledger = Record<string, Record<string, { first: number; last: number }>>;

/** The simulator's ledger, read inside host A (where the simulator listens). */
function readLedger(url: string): Ledger {
  const r = spawnSync([...wrap(NS.a), "curl", "-sf", url], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ledger: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as Ledger;
}

const permitted = process.getuid?.() === 0 && buildHosts();
afterAll(dropHosts);

describe.skipIf(!permitted)("the tape across hosts (network namespaces)", () => {
  test(
    "sim → collectors → relay → JetStream → importing relay → bridge → Postgres, under faults, against the ledger",
    async () => {
      const registry = loadRegistry();
      const port = 4333;
      await using nats = await startNatsServer({
        port,
        host: "0.0.0.0",
        wrap: wrap(NS.nats),
        probeUrl: `nats://10.235.1.1:${port}`,
        probeWrap: wrap(NS.a),
      });
      await using db = await freshDatabase({ prefix: "tw_h5netns" });
      const env = linkEnv({ TAPEWIRE_LINK_BATCH_FRAMES: "500" });
      await using relayA = await startRelayProcess();
      const dirB = mkdtempSync(join(tmpdir(), "twh5-relayb-"));
      let relayB = await startImportingRelay({ dir: dirB });
      const spool = mkdtempSync(join(tmpdir(), "twh5-spool-"));
      const procs: Proc[] = [];
      /** Every link process started, stopped in `finally` whatever happened (they outlive their namespace). */
      const links: LinkProcess[] = [];
      const link = async (...args: Parameters<typeof spawnLink>) => {
        const l = await spawnLink(...args);
        links.push(l);
        return l;
      };
      try {
        // Relay B's consumers: the bridge (stores trades) and a tap that counts every trade and every gap frame.
        const bridge = new Proc(["bridge/main.ts"], {
          TAPEWIRE_RELAY_OUT: relayB.outPath,
          BRIDGE_PORT: "0",
          BRIDGE_HOST: "127.0.0.1",
          BRIDGE_METRICS_PORT: "-1",
          DATABASE_URL: db.url,
          BRIDGE_SPOOL_DIR: spool,
        });
        procs.push(bridge);
        await bridge.waitLog("bridge listening");
        const seen = new Map<string, number>();
        const perExchange = [0, 0, 0, 0];
        const gaps: Array<{ exchange: string; status: number; first: number; count: number }> = [];
        const tap = connectRelayConsumer({
          path: relayB.outPath,
          name: "netns-tap",
          resume: true,
          reconnectMinMs: 10,
          reconnectMaxMs: 100,
          onFrame(view, off) {
            const kind = frameKind(view, off);
            if (kind === Kind.Trade) {
              const key = `${frameExchange(view, off)}:${frameInstrument(view, off)}:${frameId(view, off)}`;
              const n = seen.get(key) ?? 0;
              if (n === 0) perExchange[frameExchange(view, off)]!++;
              seen.set(key, n + 1);
            } else if (kind === Kind.Status) {
              const s = frameStatus(view, off);
              if (s === Status.Gap || s === Status.RelayGap)
                gaps.push({
                  exchange: EXCHANGE_NAMES[frameExchange(view, off)]!,
                  status: s,
                  first: frameId(view, off),
                  count: framePrice(view, off),
                });
            }
          },
        });
        await waitFor(() => tap.connected, "tap");

        // Host A: the simulator (the exchanges), the collectors, the exporting link.
        const sim = new Proc(
          ["sim/main.ts"],
          { SIM_PORT: "0", SIM_SEED: "13", SIM_EVENTS_PER_SECOND: "100" },
          NS.a,
        );
        procs.push(sim);
        const urls = await sim.waitLog("simulator listening");
        const ledgerUrl = String(urls.ledger);
        const exp = await link(
          "export",
          { ...env, TAPEWIRE_NATS_URL: `nats://10.235.1.1:${port}`, TAPEWIRE_RELAY_OUT: relayA.outPath },
          wrap(NS.a),
        );
        const importEnv = {
          ...env,
          TAPEWIRE_NATS_URL: `nats://10.235.2.1:${port}`,
          TAPEWIRE_RELAY_PASSTHROUGH_IN: relayB.passthroughPath,
        };
        let imp = await link("import", importEnv, wrap(NS.b));
        // The second importer takes the collector's own subjects into relay B's collector ingest socket.
        const directEnv = {
          ...importEnv,
          TAPEWIRE_LINK_IMPORT_FROM: "collector",
          TAPEWIRE_LINK_DURABLE: `${env.TAPEWIRE_LINK_DURABLE}_c`,
          TAPEWIRE_RELAY_IN: relayB.inPath,
        };
        let direct = await link("import", directEnv, wrap(NS.b));
        const importLogs: string[][] = [imp.logs, direct.logs];
        const collectors = VENUES.map(
          (v) =>
            new Proc(
              ["collectors/main.ts", v],
              {
                KRAKEN_WS_URL: String(urls.kraken),
                KRAKEN_REST_URL: String(urls.krakenRest),
                BINANCE_WS_URL: String(urls.binanceWs),
                BINANCE_REST_URL: String(urls.binanceRest),
                COINBASE_WS_URL: String(urls.coinbase),
                COINBASE_REST_URL: String(urls.coinbaseRest),
                TAPEWIRE_RELAY_IN: relayA.inPath,
                [`COLLECTOR_${v.toUpperCase()}_METRICS_PORT`]: "0",
                ...(VIA_RELAY.includes(v as (typeof VIA_RELAY)[number])
                  ? {}
                  : { ...env, TAPEWIRE_COLLECTOR_NATS_URL: `nats://10.235.1.1:${port}` }),
              },
              NS.a,
            ),
        );
        procs.push(...collectors);

        // Every venue's trades are arriving at relay B (both paths: via relay A and straight from the collector).
        const flowing = async (what: string) => {
          const before = perExchange.slice();
          await waitFor(
            () => VENUES.every((v) => perExchange[EXCHANGE_IDS[v]]! > before[EXCHANGE_IDS[v]]! + 50),
            `trades flowing ${what}`,
            90_000,
          );
        };
        const faults: Array<[string, () => Promise<void>]> = [
          ["NATS server restarted (1 s down)", () => nats.restart(1000)],
          [`host A ⇄ NATS link down ${OUTAGE_MS / 1000} s`, () => linkDown(NS.a, OUTAGE_MS)],
          [`host B ⇄ NATS link down ${OUTAGE_MS / 1000} s`, () => linkDown(NS.b, OUTAGE_MS)],
          [
            "importing relay kill -9, restarted on its journal",
            async () => {
              relayB.proc.kill("SIGKILL");
              await relayB.proc.exited;
              relayB = await startImportingRelay({ dir: dirB });
            },
          ],
          [
            "both importing links kill -9, restarted",
            async () => {
              imp.proc.kill("SIGKILL");
              direct.proc.kill("SIGKILL");
              await Promise.all([imp.proc.exited, direct.proc.exited]);
              imp = await link("import", importEnv, wrap(NS.b));
              direct = await link("import", directEnv, wrap(NS.b));
              importLogs.push(imp.logs, direct.logs);
            },
          ],
        ];
        await flowing("before the faults");
        const marks: Ledger[] = [];
        const startedMs: number[] = [];
        const ran: string[] = [];
        const only = process.env.NETNS_FAULTS?.split(",").map(Number); // e.g. "4" to rerun one fault
        for (const [i, [fault, run]] of faults.entries()) {
          if (only && !only.includes(i)) continue;
          ran.push(fault);
          marks.push(readLedger(ledgerUrl));
          startedMs.push(Date.now());
          await run();
          await flowing(`after: ${fault}`).catch((error) => {
            // What the links said, for the diagnosis of a stall.
            console.error({
              perExchange,
              exporter: exp.logs.slice(-15),
              importer: imp.logs.slice(-15),
              direct: direct.logs.slice(-15),
            });
            throw error;
          });
        }
        // The end of the tape: the ledger's last ids while the collectors still listen are what must be stored.
        // A venue may send a trade a little after the ledger has it: the collectors stop once relay B has
        // seen every venue symbol's last id of this mark (nothing is lost by stopping them then).
        const final = readLedger(ledgerUrl);
        marks.push(final);
        startedMs.push(Date.now());
        // Per venue symbol, ids from the first stored (the collector joined mid-tape) to the final ledger mark.
        const instruments = VENUES.flatMap((v) =>
          Object.keys(final[v] ?? {}).map((symbol) => ({
            v,
            symbol,
            inst: registry.byVenueSymbol(v, symbol),
          })),
        ).filter((x) => x.inst !== undefined);
        await waitFor(
          () =>
            instruments.every(({ v, symbol, inst }) =>
              seen.has(`${EXCHANGE_IDS[v]}:${inst!.id}:${final[v]![symbol]!.last}`),
            ),
          "relay B to have every venue symbol's last trade of the final mark",
          60_000,
        );
        for (const c of collectors) await c.stop();
        const storedIds = async () => {
          const m = new Map<string, Set<number>>();
          const rows = await db.sql<{ exchange: number; instrument_id: number; trade_id: string }[]>`
            SELECT exchange, instrument_id, trade_id::text FROM trades`;
          for (const r of rows) {
            const k = `${r.exchange}:${r.instrument_id}`;
            const s = m.get(k) ?? new Set<number>();
            m.set(k, s);
            s.add(Number(r.trade_id));
          }
          return m;
        };
        const allStored = async () => {
          const m = await storedIds();
          return instruments.every(({ v, symbol, inst }) => {
            const s = m.get(`${EXCHANGE_IDS[v]}:${inst!.id}`);
            return s?.has(final[v]![symbol]!.last) === true;
          });
        };
        await waitFor(
          allStored,
          "the far bridge to store every trade up to the final ledger mark",
          120_000,
        ).catch(async (error) => {
          const m = await storedIds();
          console.error({
            missingLast: instruments
              .filter(
                ({ v, symbol, inst }) =>
                  !m.get(`${EXCHANGE_IDS[v]}:${inst!.id}`)?.has(final[v]![symbol]!.last),
              )
              .map(({ v, symbol, inst }) => ({
                v,
                symbol,
                last: final[v]![symbol]!.last,
                storedMax: Math.max(...(m.get(`${EXCHANGE_IDS[v]}:${inst!.id}`) ?? [0])),
                seenAtRelayB: seen.has(`${EXCHANGE_IDS[v]}:${inst!.id}:${final[v]![symbol]!.last}`),
              })),
          });
          throw error;
        });
        const stored = await storedIds();
        const table = ran.map((fault, i) => {
          let trades = 0;
          let lost = 0;
          let duplicated = 0;
          for (const { v, symbol, inst } of instruments) {
            const s = stored.get(`${EXCHANGE_IDS[v]}:${inst!.id}`) ?? new Set<number>();
            const first = Math.min(...s);
            const from = Math.max(first, (marks[i]![v]?.[symbol]?.last ?? 0) + 1);
            const to = marks[i + 1]![v]?.[symbol]?.last ?? 0;
            for (let id = from; id <= to; id++) {
              trades++;
              if (!s.has(id)) lost++;
              const n = seen.get(`${EXCHANGE_IDS[v]}:${inst!.id}:${id}`) ?? 0;
              if (n > 1) duplicated += n - 1;
            }
          }
          return {
            fault,
            trades,
            lost,
            duplicated,
            seconds: Math.round((startedMs[i + 1] ?? Date.now()) - startedMs[i]!) / 1000,
          };
        });
        const dupRows =
          await db.sql`SELECT 1 FROM trades GROUP BY exchange, instrument_id, trade_id HAVING count(*) > 1`;
        console.log(
          JSON.stringify({
            netns: {
              storedTrades: [...stored.values()].reduce((n, s) => n + s.size, 0),
              gaps,
              table,
              // How the links recovered: exporter reconnects from the stored position, importer re-points.
              exporterRecoveries: exp.logs.filter((l) => l.includes("re-reading the stored position")).length,
              importerRepoints: importLogs.flat().filter((l) => l.includes("re-pointing the consumer"))
                .length,
            },
          }),
        );
        await exp[Symbol.asyncDispose]();
        await imp[Symbol.asyncDispose]();
        await direct[Symbol.asyncDispose]();
        tap.close();
        expect(dupRows.length).toBe(0);
        expect(gaps).toEqual([]);
        for (const row of table)
          expect({ fault: row.fault, lost: row.lost, duplicated: row.duplicated }).toEqual({
            fault: row.fault,
            lost: 0,
            duplicated: 0,
          });
        expect(table.every((r) => r.trades > 0)).toBe(true);
      } finally {
        for (const l of links) await l[Symbol.asyncDispose]();
        for (const p of procs.reverse()) await p.stop();
        await relayB[Symbol.asyncDispose]();
        rmSync(dirB, { recursive: true, force: true });
        rmSync(spool, { recursive: true, force: true });
      }
    },
    { timeout: 300_000 },
  );
});
