// Settings that change what the Coinbase collector does on the wire, end to end against the simulator:
// the two meanings of market_trades `side` decode to the same aggressor, and a silent connection
// (no heartbeats) is dropped and reopened.
import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FrameFields, Kind, Status } from "../../schema/frame.ts";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../../schema/instruments.ts";
import { type Simulator, startSimulator } from "../../sim/index.ts";
import { type RunningCollector, startCollector } from "../core/collector.ts";
import { type FrameListener, listenForFrames } from "../core/testing.testkit.ts";
import { Consumer } from "./consumer.testkit.ts";
import { coinbaseVenue } from "./index.ts";

const registry = new InstrumentRegistry(DEFAULT_INSTRUMENTS.filter((i) => i.symbol === "BTC-USD"));
let serial = 0;

interface Rig extends AsyncDisposable {
  sim: Simulator;
  listener: FrameListener;
  collector: RunningCollector;
  seen: Consumer;
  /** Stop the collector once (core's RunningCollector.stop() is not idempotent: a second call throws EBADF). */
  stop(): Promise<void>;
}

async function rig(
  simSide: "maker" | "taker",
  env: Record<string, string>,
  recordPath?: string,
): Promise<Rig> {
  const sim = await startSimulator({
    port: 0,
    seed: 5,
    eventsPerSecond: 30,
    registry,
    heartbeatIntervalMs: 200,
    coinbaseTradeSide: simSide,
  });
  const socket = join(tmpdir(), `tapewire-coinbase-cfg-${process.pid}-${Date.now()}-${serial++}.sock`);
  const listener = listenForFrames(socket);
  const collector = await startCollector({
    exchange: "coinbase",
    factory: coinbaseVenue,
    env: { COINBASE_WS_URL: sim.urls.coinbase, COINBASE_REST_URL: sim.urls.coinbaseRest, ...env },
    registry,
    relayPath: socket,
    recordPath,
  });
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= collector.stop();
    return stopped;
  };
  const dispose = async () => {
    await stop();
    listener.close();
    await sim.stop();
  };
  return {
    sim,
    listener,
    collector,
    seen: new Consumer(listener.frames),
    stop,
    [Symbol.asyncDispose]: dispose,
  };
}

describe("coinbase collector settings", () => {
  test("COINBASE_TRADE_SIDE: a maker-side feed read as maker equals a taker-side feed read as taker", async () => {
    await using maker = await rig("maker", { COINBASE_TRADE_SIDE: "maker" });
    await using taker = await rig("taker", {});
    const enough = (r: Rig) => (r.seen.update().trades.get(1)?.length ?? 0) >= 40;
    await maker.listener.waitFor(() => enough(maker), 8000);
    await taker.listener.waitFor(() => enough(taker), 8000);
    const sides = new Map(taker.seen.trades.get(1)!.map((t) => [t.id, t.side]));
    const common = maker.seen.trades.get(1)!.filter((t) => sides.has(t.id));
    expect(common.length).toBeGreaterThanOrEqual(20);
    for (const t of common) expect(t.side).toBe(sides.get(t.id)!);
    // Both meanings occur, so the comparison says something.
    expect(new Set(common.map((t) => t.side))).toEqual(new Set(["buy", "sell"]));
  });

  test("a --record recording replays to the same trade, book and BBO frames", async () => {
    const recording = join(tmpdir(), `tapewire-coinbase-rec-${process.pid}-${Date.now()}.jsonl`);
    using _recording = { [Symbol.dispose]: () => rmSync(recording, { force: true }) };
    await using live = await rig("taker", {}, recording);
    await live.listener.waitFor(() => (live.seen.update().trades.get(1)?.length ?? 0) >= 60, 8000);
    await live.stop();
    const socket = join(tmpdir(), `tapewire-coinbase-replay-${process.pid}-${Date.now()}.sock`);
    using listener = listenForFrames(socket);
    await using replay = await startCollector({
      exchange: "coinbase",
      factory: coinbaseVenue,
      env: {},
      registry,
      relayPath: socket,
      replayPath: recording,
    });
    await replay.replayed;
    const data = (frames: FrameFields[]) =>
      frames
        .filter((f) => f.kind !== Kind.Status)
        .map(({ kind, flags, instrument, id, price, size, tsExchange }) => ({
          kind,
          flags,
          instrument,
          id,
          price,
          size,
          tsExchange,
        }));
    const expected = data(live.listener.frames);
    await listener.waitFor((frames) => data(frames).length >= expected.length, 5000);
    expect(data(listener.frames).slice(0, expected.length)).toEqual(expected);
  });

  test("no message at all for COINBASE_IDLE_TIMEOUT_MS closes the connection and reconnects", async () => {
    await using r = await rig("taker", { COINBASE_IDLE_TIMEOUT_MS: "600" });
    await r.listener.waitFor(() => r.seen.update().statuses.some((s) => s.code === Status.Connected), 5000);
    const from = r.listener.frames.length;
    // A stall on every channel holds the data and suppresses heartbeats.
    r.sim.faults.inject({ venue: "coinbase", fault: "stall", durationMs: 3000 });
    await r.listener.waitFor(() => r.seen.statusesSince(from, Status.Disconnected).length > 0, 5000);
    await r.listener.waitFor(() => r.seen.statusesSince(from, Status.Connected).length > 0, 5000);
    expect(r.sim.stats().coinbase.connectionsTotal).toBeGreaterThanOrEqual(2);
    r.sim.faults.clear();
  });
});
