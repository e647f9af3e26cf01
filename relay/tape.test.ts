// Forged frames written into the real relay's ingest socket (issue 8, "the tape"): values the codec refuses
// never reach a consumer, and a frame carrying another exchange's id never touches that exchange's sequence.
import { describe, expect, test } from "bun:test";
import { EXCHANGE_IDS, type Exchange, FRAME_SIZE, FrameOffset, Kind, Status } from "../schema/frame.ts";
import { DEFAULT_INSTRUMENTS } from "../schema/instruments.ts";
import { connectRelayProducer } from "./index.ts";
import { collect, frames, startRelayProcess, waitFor, waitForFilters } from "./testing.ts";

const { kraken, coinbase } = EXCHANGE_IDS;
const BTC_USD = DEFAULT_INSTRUMENTS.find((i) => i.symbol === "BTC-USD")!;
const start = (exchange: Exchange) => ({
  exchange,
  seq: 0,
  kind: Kind.Status,
  flags: Status.CollectorStart << 4,
});
/** A decimal price as the exact i64 mantissa for BTC-USD. */
const mantissa = (text: string) => {
  const [whole, frac = ""] = text.split(".");
  return BigInt(whole! + frac.padEnd(BTC_USD.priceDecimals, "0"));
};
const statusOf = (f: { kind: number; flags: number }) => (f.kind === Kind.Status ? f.flags >> 4 : -1);

describe("the tape", () => {
  test("trades at -5000 and 46,116,860,184,273,879.04, zero sizes and unknown codes never reach a consumer", async () => {
    await using relay = await startRelayProcess();
    const c = collect(relay.outPath, { name: "tape" });
    using _consumer = c.consumer;
    await waitForFilters(relay, ["tape"]);
    await using producer = await connectRelayProducer({ path: relay.inPath });
    const trade = (seq: number, price: number) => ({
      exchange: kraken,
      seq,
      instrument: BTC_USD.id,
      id: seq,
      price,
      size: 1,
    });
    const bytes = frames([
      start(kraken),
      trade(1, 4_200_000),
      trade(2, 0), // price set below
      trade(3, 0),
      { ...trade(4, 4_200_100), size: 0 },
      { exchange: kraken, seq: 5, kind: Kind.Status, flags: 15 << 4 },
      { exchange: kraken, seq: 6, kind: Kind.Trade, flags: 0x30, price: 1, size: 1 },
      trade(7, 4_200_200),
    ]);
    const view = new DataView(bytes.buffer);
    view.setBigInt64(2 * FRAME_SIZE + FrameOffset.price, mantissa("-5000"), true);
    view.setBigInt64(3 * FRAME_SIZE + FrameOffset.price, mantissa("46116860184273879.04"), true);
    producer.send(bytes);
    await waitFor(() => c.frames.some((f) => f.kind === Kind.Trade && f.id === 7), "the last good trade");
    const seen = c.frames.map((f) => (statusOf(f) === Status.RelayGap ? `gap(${f.id},${f.price})` : f.seq));
    // The refused frames used collector sequence numbers, so consumers see them as one counted relay gap
    // (id = first missing collector seq, price = count); seq is the relay's journal seq, contiguous.
    expect(seen).toEqual([0, 1, "gap(2,5)", 3]);
    expect(c.frames.filter((f) => f.kind === Kind.Trade).map((f) => f.price)).toEqual([4_200_000, 4_200_200]);
    expect(await relay.metric('tapewire_relay_invalid_frames_total{reason="bad_price"}')).toBe(2);
    expect(await relay.metric('tapewire_relay_invalid_frames_total{reason="bad_size"}')).toBe(1);
    expect(await relay.metric('tapewire_relay_invalid_frames_total{reason="unknown_status"}')).toBe(1);
    expect(await relay.metric('tapewire_relay_invalid_frames_total{reason="unknown_flags"}')).toBe(1);
    expect(await relay.metric('tapewire_relay_frames_in_total{exchange="kraken",kind="trade"}')).toBe(2);
  });

  test("a frame with another exchange's id on a kraken connection does not touch that exchange (no fake gap)", async () => {
    await using relay = await startRelayProcess();
    const c = collect(relay.outPath, { name: "own" });
    using _consumer = c.consumer;
    await waitForFilters(relay, ["own"]);
    await using coinbaseIn = await connectRelayProducer({ path: relay.inPath });
    await using krakenIn = await connectRelayProducer({ path: relay.inPath });
    coinbaseIn.send(
      frames([start(coinbase), { exchange: coinbase, seq: 1 }, { exchange: coinbase, seq: 2 }]),
    );
    await waitFor(() => c.frames.length === 3, "coinbase start");
    krakenIn.send(frames([start(kraken), { exchange: kraken, seq: 1 }]));
    await waitFor(() => c.frames.length === 5, "kraken start");
    // The forgery: the kraken connection claims to be coinbase, 949 million frames ahead.
    krakenIn.send(
      frames([
        { exchange: coinbase, seq: 949_000_000, price: 100, size: 1 },
        { exchange: kraken, seq: 2 },
      ]),
    );
    await waitFor(() => c.frames.length === 6, "kraken's next frame");
    coinbaseIn.send(frames([{ exchange: coinbase, seq: 3 }]));
    await waitFor(() => c.frames.length === 7, "coinbase's next frame");
    const key = (f: { exchange: number; seq: number; kind: number; flags: number }) =>
      `${f.exchange}:${f.seq}${statusOf(f) === Status.RelayGap ? ":gap" : ""}`;
    expect(c.frames.map(key)).toEqual(["2:0", "2:1", "2:2", "1:0", "1:1", "1:2", "2:3"]);
    expect(await relay.metric('tapewire_relay_foreign_frames_total{exchange="kraken"}')).toBe(1);
    expect(await relay.metric('tapewire_relay_gaps_total{exchange="coinbase"}')).toBe(0);
    expect(
      relay.logs.some((l) => l.msg === "frame for another exchange on a collector connection dropped"),
    ).toBe(true);
  });
});
