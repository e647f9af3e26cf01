// The relay as a process: merge, order, filters, sequence tracking, invalid and split frames.
import { describe, expect, test } from "bun:test";
import { EXCHANGE_IDS, Kind, Status } from "../schema/frame.ts";
import { connectRelayProducer, type RelayConsumer } from "./index.ts";
import { collect, frames, startRelayProcess, waitFor, waitForFilters } from "./testing.ts";

const { kraken, coinbase, binance } = EXCHANGE_IDS;
/** Several consumers closed together (`using`). */
const disposeAll = (list: RelayConsumer[]) => ({
  [Symbol.dispose]: () => {
    for (const c of list) c.close();
  },
});
/** A stand-in socket closed at the end of the test (`using`). */
const ending = (s: { end(): void }) => ({ [Symbol.dispose]: () => s.end() });
const statusOf = (f: { kind: number; flags: number }) => (f.kind === Kind.Status ? f.flags >> 4 : -1);

describe("relay", () => {
  test("merges several producers and keeps per-exchange order", async () => {
    await using relay = await startRelayProcess();
    const a = collect(relay.outPath, { name: "a" });
    const b = collect(relay.outPath, { name: "b" });
    using _a = a.consumer;
    using _b = b.consumer;
    await waitForFilters(relay, ["a", "b"]);
    const producers = await Promise.all(
      [kraken, coinbase, binance].map(() => connectRelayProducer({ path: relay.inPath })),
    );
    await using _producers = {
      [Symbol.asyncDispose]: async () => void (await Promise.all(producers.map((p) => p.close()))),
    };
    const perExchange = 3000;
    // Interleave small batches from the three producers: each round is delivered before the next is sent, so
    // every round mixes all three exchanges however the scheduler orders the reads.
    for (let i = 0; i < perExchange; i += 100) {
      for (const [k, exchange] of [kraken, coinbase, binance].entries()) {
        const list = Array.from({ length: 100 }, (_, j) => ({ exchange, seq: i + j, id: i + j }));
        producers[k]!.send(frames(list));
      }
      await waitFor(() => a.frames.length >= 3 * (i + 100), `round ${i / 100}`);
    }
    await waitFor(
      () => a.frames.length >= 3 * perExchange && b.frames.length >= 3 * perExchange,
      "all frames",
    );
    for (const got of [a.frames, b.frames]) {
      expect(got.length).toBe(3 * perExchange);
      for (const exchange of [kraken, coinbase, binance]) {
        const seqs = got.filter((f) => f.exchange === exchange).map((f) => f.seq);
        expect(seqs).toEqual(Array.from({ length: perExchange }, (_, i) => i));
      }
    }
    // The exchanges really were interleaved in the merged stream.
    const switches = a.frames.filter((f, i) => i > 0 && f.exchange !== a.frames[i - 1]!.exchange).length;
    expect(switches).toBeGreaterThanOrEqual(2 * (perExchange / 100));
    expect(await relay.metric('tapewire_relay_frames_in_total{exchange="coinbase",kind="trade"}')).toBe(
      perExchange,
    );
    expect(await relay.metric('tapewire_relay_frames_out_total{exchange="coinbase",kind="trade"}')).toBe(
      2 * perExchange,
    );
  });

  test("filters by exchange, instrument and kind; status for instrument 0 passes instrument filters", async () => {
    await using relay = await startRelayProcess();
    const cb = collect(relay.outPath, { name: "cb", filter: { exchanges: ["coinbase"] } });
    const inst = collect(relay.outPath, { name: "inst", filter: { instruments: [2] } });
    const kinds = collect(relay.outPath, {
      name: "kinds",
      filter: { kinds: ["bbo", "status"], exchanges: ["kraken"] },
    });
    const all = collect(relay.outPath, { name: "all" });
    using _consumers = disposeAll([cb, inst, kinds, all].map((c) => c.consumer));
    await waitForFilters(relay, ["cb", "inst", "kinds", "all"]);
    // One connection per exchange: a collector connection is bound to the exchange of its first frame.
    await using krakenIn = await connectRelayProducer({ path: relay.inPath });
    await using coinbaseIn = await connectRelayProducer({ path: relay.inPath });
    const krakenList = [
      { exchange: kraken, seq: 0, kind: Kind.Status, flags: Status.CollectorStart << 4, instrument: 0 },
      { exchange: kraken, seq: 1, kind: Kind.Trade, instrument: 1 },
      { exchange: kraken, seq: 2, kind: Kind.Trade, instrument: 2 },
      { exchange: kraken, seq: 3, kind: Kind.Bbo, instrument: 2 },
      { exchange: kraken, seq: 4, kind: Kind.BookLevel, instrument: 3 },
      { exchange: kraken, seq: 5, kind: Kind.Status, flags: Status.Stale << 4, instrument: 3 },
    ] as const;
    const coinbaseList = [
      { exchange: coinbase, seq: 0, kind: Kind.Trade, instrument: 2 },
      { exchange: coinbase, seq: 1, kind: Kind.Status, flags: Status.Connected << 4, instrument: 0 },
    ] as const;
    const list = [...krakenList, ...coinbaseList];
    krakenIn.send(frames([...krakenList]));
    await waitFor(() => all.frames.length === krakenList.length, "kraken frames");
    coinbaseIn.send(frames([...coinbaseList]));
    await waitFor(() => all.frames.length === list.length, "all frames");
    // The next frame on each exchange is a marker that everything before it was delivered to everyone.
    coinbaseIn.send(
      frames([
        { exchange: coinbase, seq: 2, instrument: 2, kind: Kind.Status, flags: Status.Heartbeat << 4 },
      ]),
    );
    await waitFor(() => all.frames.length === list.length + 1, "coinbase marker");
    krakenIn.send(
      frames([{ exchange: kraken, seq: 6, instrument: 2, kind: Kind.Status, flags: Status.Heartbeat << 4 }]),
    );
    await waitFor(() => all.frames.length === list.length + 2, "markers");
    await waitFor(
      () => inst.frames.length >= 5 && kinds.frames.length >= 4 && cb.frames.length >= 3,
      "filtered",
    );
    const key = (f: { exchange: number; seq: number }) => `${f.exchange}:${f.seq}`;
    expect(cb.frames.map(key)).toEqual(["2:0", "2:1", "2:2"]);
    expect(inst.frames.map(key)).toEqual(["1:0", "1:2", "1:3", "2:0", "2:1", "2:2", "1:6"]);
    expect(kinds.frames.map(key)).toEqual(["1:0", "1:3", "1:5", "1:6"]);
  });

  test("a new filter line replaces the old one; an invalid line is counted and the old filter kept", async () => {
    await using relay = await startRelayProcess();
    const c = collect(relay.outPath, { name: "f", filter: { exchanges: ["kraken"] } });
    using _c = c.consumer;
    await waitForFilters(relay, ["f"]);
    await using krakenIn = await connectRelayProducer({ path: relay.inPath });
    await using binanceIn = await connectRelayProducer({ path: relay.inPath });
    krakenIn.send(frames([{ exchange: kraken, seq: 0 }]));
    binanceIn.send(frames([{ exchange: binance, seq: 0 }]));
    await waitFor(() => c.frames.length === 1, "first kraken frame");
    c.consumer.setFilter({ exchanges: ["binance"] });
    await waitFor(
      () => relay.logs.filter((l) => l.msg === "consumer filter set").length === 2,
      "second filter",
    );
    krakenIn.send(frames([{ exchange: kraken, seq: 1 }]));
    binanceIn.send(frames([{ exchange: binance, seq: 1 }]));
    await waitFor(() => c.frames.length === 2, "binance frame");
    // Bad lines, raw on a second connection: not JSON, unknown exchange, wrong type.
    const raw = await Bun.connect({ unix: relay.outPath, socket: { data() {} } });
    using _raw = ending(raw);
    raw.write(
      '{"name":"raw","exchanges":["kraken"]}\nnot json\n{"exchanges":["ftx"]}\n{"instruments":[1.5]}\n',
    );
    await waitFor(
      async () => (await relay.metric("tapewire_relay_filter_errors_total")) === 3,
      "3 filter errors",
    );
    krakenIn.send(frames([{ exchange: kraken, seq: 2 }]));
    binanceIn.send(frames([{ exchange: binance, seq: 2 }]));
    await waitFor(() => c.frames.length === 3, "third frame");
    expect(c.frames.map((f) => [f.exchange, f.seq])).toEqual([
      [kraken, 0],
      [binance, 1],
      [binance, 2],
    ]);
  });

  test("a sequence gap emits RelayGap in order before the frame that revealed it; wrap at 2^32 is contiguous; resent frames are dropped", async () => {
    await using relay = await startRelayProcess();
    const c = collect(relay.outPath, { name: "g" });
    using _c = c.consumer;
    await waitForFilters(relay, ["g"]);
    await using producer = await connectRelayProducer({ path: relay.inPath });
    const start = { exchange: binance, seq: 0, kind: Kind.Status, flags: Status.CollectorStart << 4 };
    producer.send(
      frames([
        start,
        { exchange: binance, seq: 1, id: 1 },
        { exchange: binance, seq: 2, id: 2 },
        { exchange: binance, seq: 7, id: 7 },
      ]),
    );
    // Behind the expected seq: what a collector resends after a reconnect. Dropped, never a gap.
    producer.send(frames([5, 6, 7].map((seq) => ({ exchange: binance, seq, id: seq }))));
    producer.send(frames([{ exchange: binance, seq: 8, id: 8 }]));
    // Another collector that was running before the relay: its first frame is the baseline; 2^32 - 1 → 0 is
    // contiguous; then a gap.
    await using late = await connectRelayProducer({ path: relay.inPath });
    late.send(frames([0xfffffffe, 0xffffffff, 0, 1, 3].map((seq) => ({ exchange: kraken, seq, id: seq }))));
    await waitFor(() => c.frames.length === 12, "12 frames");
    const seen = (ex: number) =>
      c.frames
        .filter((f) => f.exchange === ex)
        .map((f) => (statusOf(f) === Status.RelayGap ? `gap(${f.id},${f.price})` : f.id));
    expect(seen(binance)).toEqual([0, 1, 2, "gap(3,4)", 7, 8]);
    expect(seen(kraken)).toEqual([0xfffffffe, 0xffffffff, 0, 1, "gap(2,1)", 3]);
    // What consumers see as seq is the relay's journal seq: contiguous per exchange, gap frames included.
    for (const ex of [binance, kraken]) {
      expect(c.frames.filter((f) => f.exchange === ex).map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    }
    const gap = c.frames.find((f) => statusOf(f) === Status.RelayGap)!;
    expect([gap.exchange, gap.instrument, gap.kind]).toEqual([binance, 0, Kind.Status]);
    expect(await relay.metric('tapewire_relay_gaps_total{exchange="binance"}')).toBe(1);
    expect(await relay.metric('tapewire_relay_missing_frames_total{exchange="binance"}')).toBe(4);
    expect(await relay.metric('tapewire_relay_duplicate_frames_total{exchange="binance"}')).toBe(3);
    expect(await relay.metric('tapewire_relay_gaps_total{exchange="kraken"}')).toBe(1);
  });

  test("a collector restart (CollectorStart, seq 0) is counted and passed on, not a gap; disconnect is visible", async () => {
    await using relay = await startRelayProcess();
    const c = collect(relay.outPath, { name: "r" });
    using _c = c.consumer;
    await waitForFilters(relay, ["r"]);
    // A run is known by its CollectorStart's id (pid) and price (start time): a new one is a restart.
    const start = (pid: number) => ({
      exchange: coinbase,
      seq: 0,
      kind: Kind.Status,
      flags: Status.CollectorStart << 4,
      id: pid,
      price: 1_700_000_000_000 + pid,
    });
    const first = await connectRelayProducer({ path: relay.inPath });
    first.send(frames([start(1), { exchange: coinbase, seq: 1 }, { exchange: coinbase, seq: 2 }]));
    await first.close();
    await waitFor(() => c.frames.length === 4, "first run and its Disconnected");
    expect(statusOf(c.frames[3]!)).toBe(Status.Disconnected);
    expect([c.frames[3]!.exchange, c.frames[3]!.instrument, c.frames[3]!.id]).toEqual([coinbase, 0, 3]);
    await using second = await connectRelayProducer({ path: relay.inPath });
    second.send(frames([start(2), { exchange: coinbase, seq: 1 }]));
    await waitFor(() => c.frames.length === 6, "second run");
    expect(c.frames.some((f) => statusOf(f) === Status.RelayGap)).toBe(false);
    expect(await relay.metric('tapewire_relay_restarts_total{exchange="coinbase"}')).toBe(1);
    expect(await relay.metric('tapewire_relay_collector_starts_total{exchange="coinbase"}')).toBe(2);
    expect(await relay.metric('tapewire_relay_collector_disconnects_total{exchange="coinbase"}')).toBe(1);
  });

  test("frames split across writes at every byte are reassembled; invalid frames are dropped and the stream stays aligned", async () => {
    await using relay = await startRelayProcess();
    const c = collect(relay.outPath, { name: "s" });
    using _c = c.consumer;
    await waitForFilters(relay, ["s"]);
    const list = Array.from({ length: 40 }, (_, i) => ({
      exchange: kraken,
      seq: i,
      id: 1000 + i,
      price: 1 + i,
    }));
    const bytes = frames(list);
    bytes[5 * 48 + 1] = 0x21; // frame 5: version 2
    bytes[9 * 48] = 0x07; // frame 9: unknown kind
    bytes[13 * 48 + 1] = 0x19; // frame 13: unknown exchange 9
    const sock = await Bun.connect({ unix: relay.inPath, socket: { data() {} } });
    using _sock = ending(sock);
    // Pieces of 1..97 bytes, each its own write with a turn of the event loop between them.
    let pos = 0;
    for (let step = 1; pos < bytes.length; step = (step * 7) % 97 || 1) {
      const end = Math.min(bytes.length, pos + step);
      expect(sock.write(bytes.subarray(pos, end))).toBe(end - pos);
      pos = end;
      await Bun.sleep(1);
    }
    // 37 valid frames and a gap for each of the 3 dropped ones.
    await waitFor(() => c.frames.length >= 40, "37 valid frames and 3 gaps");
    const seqs = c.frames.map((f) => (statusOf(f) === Status.RelayGap ? `gap(${f.id},${f.price})` : f.seq));
    expect(seqs).toEqual([
      ...[0, 1, 2, 3, 4],
      "gap(5,1)",
      ...[6, 7, 8],
      "gap(9,1)",
      ...[10, 11, 12],
      "gap(13,1)",
      ...Array.from({ length: 26 }, (_, i) => 14 + i),
    ]);
    expect(
      c.frames
        .filter((f) => f.kind === Kind.Trade)
        .every((f) => f.id === 1000 + f.seq && f.price === 1 + f.seq),
    ).toBe(true);
    expect(await relay.metric('tapewire_relay_invalid_frames_total{reason="bad_version"}')).toBe(1);
    expect(await relay.metric('tapewire_relay_invalid_frames_total{reason="unknown_kind"}')).toBe(1);
    expect(await relay.metric('tapewire_relay_invalid_frames_total{reason="unknown_exchange"}')).toBe(1);
  });

  test("hop latency is sampled from tsRecv", async () => {
    await using relay = await startRelayProcess({ env: { TAPEWIRE_RELAY_LATENCY_SAMPLE: "1" } });
    await using producer = await connectRelayProducer({ path: relay.inPath });
    const now = Date.now() * 1e6;
    producer.send(frames(Array.from({ length: 10 }, (_, i) => ({ seq: i, tsRecv: now }))));
    await waitFor(
      async () => (await relay.metric("tapewire_relay_hop_latency_us_count")) === 10,
      "10 samples",
    );
    expect(await relay.metric('tapewire_relay_hop_latency_us_bucket{le="1000000"}')).toBe(10);
  });
});
