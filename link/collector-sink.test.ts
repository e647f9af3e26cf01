// A collector publishing straight to JetStream (link/collector-sink.ts) and a relay importing it as a collector
// (TAPEWIRE_LINK_IMPORT_FROM=collector): the acknowledged-ingest guarantee across a NATS restart and a collector
// restart, and the bounded buffer while NATS is away. Private nats-server (its restart is the fault).
import { expect, test } from "bun:test";
import { createLogger } from "../lib/log.ts";
import { connectRelayConsumer } from "../relay/client.ts";
import { startRelayProcess, waitFor } from "../relay/testing.ts";
import { Exchange, FRAME_SIZE, frameId, frameKind, frameStatus, Kind, Status } from "../schema/frame.ts";
import { JetStreamSink } from "./collector-sink.ts";
import { loadLinkConfig } from "./config.ts";
import { startImporter } from "./import.ts";
import { freePort, linkEnv, startNatsServer, TradeSource } from "./testing.ts";

const log = createLogger({ service: "test" }, () => {});

function sinkFor(env: Record<string, string>, capacityFrames = 100_000): JetStreamSink {
  const cfg = loadLinkConfig(env);
  return new JetStreamSink({
    natsUrl: cfg.natsUrl,
    stream: cfg.stream,
    subjectPrefix: cfg.subjectPrefix,
    maxAgeS: cfg.maxAgeS,
    duplicateWindowS: cfg.duplicateWindowS,
    capacityFrames,
    batchFrames: 64,
    log,
  });
}

test("collector → JetStream → importing relay: every trade once across a NATS restart and a collector restart", async () => {
  await using nats = await startNatsServer();
  const env = linkEnv({ TAPEWIRE_NATS_URL: nats.url, TAPEWIRE_LINK_IMPORT_FROM: "collector" });
  await using relay = await startRelayProcess();
  const runs: number[][] = [];
  const tap = connectRelayConsumer({
    path: relay.outPath,
    reconnectMinMs: 10,
    onFrame(view, off) {
      const kind = frameKind(view, off);
      if (kind === Kind.Status && frameStatus(view, off) === Status.CollectorStart) runs.push([]);
      else if (kind === Kind.Trade) runs.at(-1)?.push(frameId(view, off));
      else if (kind === Kind.Status && frameStatus(view, off) === Status.RelayGap) runs.at(-1)?.push(-1);
    },
  });
  await waitFor(() => tap.connected, "tap");
  let sink = sinkFor(env);
  await waitFor(() => sink.connected, "sink connected");
  await using importer = await startImporter(loadLinkConfig({ ...env, TAPEWIRE_RELAY_IN: relay.inPath }));
  let source = new TradeSource(Exchange.Kraken, 1111);
  let sending = true;
  const pump = (async () => {
    while (sending) {
      expect(sink.accept(source.next(40), 40 * FRAME_SIZE)).toBe(true);
      await Bun.sleep(2);
    }
  })();
  const trades = () => runs.reduce((n, r) => n + r.length, 0);
  await waitFor(() => trades() > 1000, "trades flowing", 20_000);
  await nats.restart(1000);
  const atRestart = trades();
  await waitFor(() => trades() > atRestart + 1000, "trades after the NATS restart", 30_000);
  sending = false;
  await pump;
  const first = source.sent - 1;
  await waitFor(() => sink.buffered === 0, "everything acknowledged by JetStream", 30_000);
  await sink.close();
  // A restarted collector: a new run (seq from 0), a new pid.
  sink = sinkFor(env);
  source = new TradeSource(Exchange.Kraken, 2222);
  for (let i = 0; i < 10; i++) sink.accept(source.next(50), 50 * FRAME_SIZE);
  const second = source.sent - 1;
  await waitFor(() => runs.length === 2 && runs[1]!.length === second, "the second run", 20_000);
  expect(runs[0]).toEqual(Array.from({ length: first }, (_, i) => i + 1));
  expect(runs[1]).toEqual(Array.from({ length: second }, (_, i) => i + 1));
  await waitFor(() => importer.unacknowledged === 0, "every message acknowledged");
  expect(sink.refused).toBe(0);
  await sink.close();
  tap.close();
}, 90_000);

test("while NATS is away the buffer is bounded: frames beyond it are refused, the rest go once it is back", async () => {
  const port = await freePort();
  const env = linkEnv({ TAPEWIRE_NATS_URL: `nats://127.0.0.1:${port}` });
  const sink = sinkFor(env, 100);
  const source = new TradeSource(Exchange.Binance);
  expect(sink.accept(source.next(60), 60 * FRAME_SIZE)).toBe(true);
  expect(sink.accept(source.next(60), 60 * FRAME_SIZE)).toBe(false);
  expect([sink.buffered, sink.refused, sink.connected]).toEqual([60, 60, false]);
  await using _nats = await startNatsServer({ port });
  await waitFor(() => sink.buffered === 0, "the buffered frames stored once NATS is up", 20_000);
  expect(sink.framesAcked).toBe(60);
  await sink.close();
}, 60_000);
