// One feeder kind per exchange (relay/feeders.ts) on a real relay process with both ingest sockets: while a
// collector connection is bound to an exchange, pass-through frames of it are refused (not journaled, not
// fanned out, not acknowledged) and counted, and the reverse; once the holder closes, the refused connection is
// ended so its sender resends, and the exchange goes to the other kind with the journal seq going on.
import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Exchange, type FrameFields, Kind, Status } from "../schema/frame.ts";
import { collect, frames, rawCollector, startRelayProcess, tempDir, waitFor } from "./testing.ts";

/** A collector run: CollectorStart (seq 0) then trades 1..n, ids = seq. */
const run = (exchange: Exchange, from: number, to: number, pid = 11): Partial<FrameFields>[] =>
  Array.from({ length: to - from }, (_, i) => {
    const seq = from + i;
    return seq === 0
      ? { kind: Kind.Status, flags: Status.CollectorStart << 4, exchange, seq: 0, id: pid, price: 5 }
      : { exchange, seq, id: seq };
  });
/** An exporting relay's frames: its journal seqs, ids marked apart from the collector's. */
const linked = (exchange: Exchange, from: number, to: number): Partial<FrameFields>[] =>
  Array.from({ length: to - from }, (_, i) => ({ exchange, seq: from + i, id: 90_000 + from + i }));

test("an exchange fed by one ingest kind refuses the other kind's frames, counted; released, the other may take it", async () => {
  const dir = tempDir();
  const passthroughPath = join(dir, "run", "pt.sock");
  try {
    await using relay = await startRelayProcess({
      dir,
      env: { TAPEWIRE_RELAY_PASSTHROUGH_IN: passthroughPath },
    });
    const live = collect(relay.outPath, { name: "live" });
    await waitFor(() => live.consumer.connected, "consumer");
    const of = (ex: Exchange) => live.frames.filter((f) => f.exchange === ex);
    const conflicts = (exchange: string, ingest: string) =>
      relay.metric(`tapewire_relay_ingest_conflict_frames_total{exchange="${exchange}",ingest="${ingest}"}`);

    // kraken from a collector; pass-through kraken frames are refused, the collector's go on.
    const collector = await rawCollector(relay.inPath);
    await collector.write(frames(run(Exchange.Kraken, 0, 10)));
    await waitFor(() => of(Exchange.Kraken).length === 10, "collector frames");
    const link = await rawCollector(passthroughPath);
    await link.write(frames(linked(Exchange.Kraken, 5000, 5020)));
    await waitFor(
      async () => (await conflicts("kraken", "passthrough")) === 20,
      "pass-through frames refused",
    );
    await collector.write(frames(run(Exchange.Kraken, 10, 20)));
    await waitFor(() => of(Exchange.Kraken).length >= 20, "more collector frames");
    await waitFor(() => collector.ackedSeqs().includes(19), "collector acknowledged");
    expect(of(Exchange.Kraken).map((f) => f.id)).toEqual([
      11,
      ...Array.from({ length: 19 }, (_, i) => i + 1),
    ]);
    expect(of(Exchange.Kraken).map((f) => f.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(link.ackedSeqs()).toEqual([]); // refused frames are not acknowledged: the sender keeps them
    expect(await conflicts("kraken", "collector")).toBe(0);

    // binance from pass-through; a collector connection for binance is refused, the link's frames go on.
    const binanceLink = await rawCollector(passthroughPath);
    await binanceLink.write(frames(linked(Exchange.Binance, 700, 710)));
    await waitFor(() => of(Exchange.Binance).length === 10, "pass-through frames");
    const binanceCollector = await rawCollector(relay.inPath);
    await binanceCollector.write(frames(run(Exchange.Binance, 0, 8)));
    await waitFor(async () => (await conflicts("binance", "collector")) === 8, "collector frames refused");
    await binanceLink.write(frames(linked(Exchange.Binance, 710, 720)));
    await waitFor(() => of(Exchange.Binance).length >= 20, "more pass-through frames");
    expect(of(Exchange.Binance).map((f) => f.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 700 + i));
    expect(binanceCollector.ackedSeqs()).toEqual([]);

    // The holder closes: the refused connection is ended (its sender resends on a new one) and may take it.
    binanceLink.end();
    await waitFor(() => binanceCollector.closed, "refused collector connection ended by the relay");
    const again = await rawCollector(relay.inPath);
    await again.write(frames(run(Exchange.Binance, 0, 8)));
    await waitFor(() => again.ackedSeqs().includes(7), "the collector's resend acknowledged");
    await waitFor(() => of(Exchange.Binance).length >= 28, "collector frames for binance");
    // The journal seq goes on from the pass-through's (720 next), with the takeover logged.
    expect(
      of(Exchange.Binance)
        .slice(20)
        .map((f) => f.seq),
    ).toEqual(Array.from({ length: 8 }, (_, i) => 720 + i));
    expect(relay.logs.some((l) => l.msg === "collectors take over an exchange fed by pass-through")).toBe(
      true,
    );

    // And the reverse release: the kraken collector closes, the refused link connection is ended.
    collector.end();
    await waitFor(() => link.closed, "refused pass-through connection ended by the relay");
    expect(await conflicts("kraken", "passthrough")).toBe(20);
    again.end();
    live.consumer.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);

test("after a restart the journal's feeder kind binds nothing: a collector joining mid-stream takes a pass-through exchange", async () => {
  const dir = tempDir();
  const env = { TAPEWIRE_RELAY_PASSTHROUGH_IN: join(dir, "run", "pt.sock") };
  try {
    let relay = await startRelayProcess({ dir, env });
    const link = await rawCollector(env.TAPEWIRE_RELAY_PASSTHROUGH_IN);
    await link.write(frames(linked(Exchange.Binance, 700, 720)));
    await waitFor(() => link.ackedSeqs().includes(719), "pass-through frames journaled");
    link.end();
    await relay.stop();
    relay = await startRelayProcess({ dir, env });
    const live = collect(relay.outPath, { name: "live" });
    await waitFor(() => live.consumer.connected, "consumer");
    // A collector that was running before (no CollectorStart): its seq 50 is far behind the exporting relay's
    // 720 the journal restored, yet these are new frames, not duplicates.
    const collector = await rawCollector(relay.inPath);
    await collector.write(frames(run(Exchange.Binance, 50, 60)));
    await waitFor(() => collector.ackedSeqs().includes(59), "collector acknowledged");
    await waitFor(() => live.frames.length >= 10, "collector frames");
    expect(live.frames.map((f) => f.id)).toEqual(Array.from({ length: 10 }, (_, i) => 50 + i));
    expect(live.frames.map((f) => f.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 720 + i));
    expect(relay.logs.some((l) => l.msg === "collectors take over an exchange fed by pass-through")).toBe(
      true,
    );
    collector.end();
    live.consumer.close();
    await relay.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
