import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  decodeFrame,
  Exchange,
  encodeFrame,
  FLAG_ASK,
  FLAG_BACKFILL,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  FLAG_TAKER_BUY,
  FLAG_TAKER_SELL,
  FRAME_SIZE,
  FrameError,
  type FrameFields,
  Kind,
  MAX_MANTISSA,
  MAX_STATUS,
  Status,
  validateFrame,
  validateHead,
} from "./frame.ts";
import { FrameStreamDecoder } from "./stream.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
function encode(f: FrameFields): Uint8Array {
  const bytes = new Uint8Array(FRAME_SIZE);
  encodeFrame(new DataView(bytes.buffer), 0, f);
  return bytes;
}

// ns timestamps above 2^53 are only exact in the plain-object API at multiples of 256; the hot path writes
// exact ns with clock.ts (setTimeNs), tested in clock.test.ts.
const base = {
  seq: 0x01020304,
  tsExchange: Number(1_695_628_177_708_706_048n),
  tsRecv: Number(1_695_628_177_709_000_192n),
};

// Golden vectors: the byte table in docs/wire-format.md, written out by hand. A change here is a wire change.
describe("golden bytes", () => {
  test("trade, taker buy", () => {
    const bytes = encode({
      ...base,
      kind: Kind.Trade,
      flags: FLAG_TAKER_BUY,
      exchange: Exchange.Kraken,
      instrument: 1,
      id: 4665906,
      price: 4528350, // 45283.50 at 2 decimals
      size: 10000000, // 0.1 at 8 decimals
    });
    expect(hex(bytes)).toBe(
      [
        "11", // kind 1 | taker buy 0x10
        "11", // version 1 << 4 | kraken 1
        "0100", // instrument 1
        "04030201", // seq
        "32324700" + "00000000", // trade id 4665906 = 0x473232
        "de184500" + "00000000", // price 4528350 = 0x4518de
        "80969800" + "00000000", // size 10000000 = 0x989680
        "00697803d8148817", // tsExchange
        "00e67c03d8148817", // tsRecv
      ].join(""),
    );
  });

  test("book level: ask, snapshot begin", () => {
    const bytes = encode({
      ...base,
      kind: Kind.BookLevel,
      flags: FLAG_ASK | FLAG_SNAPSHOT | FLAG_BEGIN,
      exchange: Exchange.Coinbase,
      instrument: 7,
      id: 0,
      price: 1,
      size: 0,
    });
    expect(hex(bytes.subarray(0, 8))).toBe("7212070004030201");
    expect(hex(bytes.subarray(16, 32))).toBe("01000000000000000000000000000000");
  });

  test("bbo: ask with end", () => {
    const bytes = encode({
      ...base,
      kind: Kind.Bbo,
      flags: FLAG_ASK | FLAG_END,
      exchange: Exchange.Binance,
      instrument: 4,
      id: 400900217,
      price: 2536520,
      size: 4066000000,
    });
    expect(hex(bytes.subarray(0, 4))).toBe("93130400");
    expect(hex(bytes.subarray(8, 16))).toBe("7940e51700000000"); // 400900217 = 0x17e54079
    expect(hex(bytes.subarray(24, 32))).toBe("803c5af200000000");
  });

  test("status: gap with negative-free detail", () => {
    const bytes = encode({
      ...base,
      kind: Kind.Status,
      flags: Status.Gap << 4,
      exchange: Exchange.Coinbase,
      instrument: 0,
      id: 42,
      price: 3,
      size: 0,
    });
    expect(hex(bytes.subarray(0, 2))).toBe("6412");
    expect(decodeFrame(new DataView(bytes.buffer), 0)).toMatchObject({
      kind: Kind.Status,
      flags: 0x60,
      id: 42,
      price: 3,
    });
  });

  test("negative mantissas round trip as two's complement", () => {
    const bytes = encode({
      ...base,
      kind: Kind.Trade,
      flags: FLAG_TAKER_SELL,
      exchange: 1,
      instrument: 1,
      id: 1,
      price: -5,
      size: -9007199254740991,
    });
    expect(hex(bytes.subarray(16, 24))).toBe("fbffffffffffffff");
    expect(new DataView(bytes.buffer).getBigInt64(24, true)).toBe(-9007199254740991n);
  });
});

// Any header-valid frame: the codec round-trips every bit pattern, accepted or not.
const anyFrameArb = fc.record({
  kind: fc.constantFrom(Kind.Trade, Kind.BookLevel, Kind.Bbo, Kind.Status),
  flags: fc.integer({ min: 0, max: 15 }).map((n) => n << 4),
  exchange: fc.constantFrom(Exchange.Kraken, Exchange.Coinbase, Exchange.Binance),
  instrument: fc.integer({ min: 0, max: 65535 }),
  seq: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  id: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  price: fc.maxSafeInteger(),
  size: fc.maxSafeInteger(),
  tsExchange: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  tsRecv: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
}) as fc.Arbitrary<FrameFields>;

// Frames the codec accepts (validateFrame's value rules): what a decoder hands on.
const mantissa = (min: number) => fc.integer({ min, max: MAX_MANTISSA });
const frameArb = fc
  .record({
    f: anyFrameArb,
    tradeFlags: fc.constantFrom(0, FLAG_TAKER_BUY, FLAG_TAKER_SELL, FLAG_TAKER_BUY | FLAG_BACKFILL),
    bboFlags: fc.constantFrom(0, FLAG_ASK, FLAG_ASK | FLAG_END, FLAG_END),
    status: fc.integer({ min: 0, max: MAX_STATUS }),
    positive: fc.tuple(mantissa(1), mantissa(1)),
    nonNegative: fc.tuple(mantissa(0), mantissa(0)),
  })
  .map(({ f, tradeFlags, bboFlags, status, positive, nonNegative }): FrameFields => {
    if (f.kind === Kind.Status) return { ...f, flags: status << 4 };
    const [price, size] = f.kind === Kind.Trade ? positive : nonNegative;
    const flags = f.kind === Kind.Trade ? tradeFlags : f.kind === Kind.Bbo ? bboFlags : f.flags;
    return { ...f, flags, price, size };
  });

describe("round trips", () => {
  test("encode then decode is the identity", () => {
    fc.assert(
      fc.property(anyFrameArb, (f) => {
        const bytes = encode(f);
        const view = new DataView(bytes.buffer);
        expect(validateHead(view, 0)).toBe(FrameError.None);
        expect(decodeFrame(view, 0)).toEqual(f);
        // i64 fields agree with the exact BigInt reading
        expect(view.getBigInt64(16, true)).toBe(BigInt(f.price));
        expect(view.getBigUint64(8, true)).toBe(BigInt(f.id));
      }),
    );
  });

  test("every generated acceptable frame is accepted", () => {
    fc.assert(
      fc.property(frameArb, (f) => validateFrame(new DataView(encode(f).buffer), 0) === FrameError.None),
    );
  });

  test("a stream split at every chunk boundary decodes to the same frames", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 6 }), (frames) => {
        const stream = new Uint8Array(frames.length * FRAME_SIZE);
        for (const [i, f] of frames.entries()) encodeFrame(new DataView(stream.buffer), i * FRAME_SIZE, f);
        for (let split = 0; split <= stream.length; split++) {
          const got: FrameFields[] = [];
          const d = new FrameStreamDecoder((v, o) => got.push(decodeFrame(v, o)));
          d.push(stream.subarray(0, split));
          d.push(stream.subarray(split));
          expect(got).toEqual(frames);
          expect(d.pending).toBe(0);
        }
      }),
      { numRuns: 30 },
    );
  });

  test("one byte at a time", () => {
    const frames = [1, 2, 3].map(
      (i) =>
        ({
          ...base,
          kind: Kind.Trade,
          flags: 0,
          exchange: 1,
          instrument: i,
          id: i,
          price: i,
          size: i,
        }) as FrameFields,
    );
    const stream = new Uint8Array(frames.length * FRAME_SIZE);
    for (const [i, f] of frames.entries()) encodeFrame(new DataView(stream.buffer), i * FRAME_SIZE, f);
    const got: FrameFields[] = [];
    const d = new FrameStreamDecoder((v, o) => got.push(decodeFrame(v, o)));
    for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1));
    expect(got).toEqual(frames);
  });
});

describe("hostile bytes", () => {
  const good = () =>
    encode({ ...base, kind: Kind.Trade, flags: 0, exchange: 1, instrument: 1, id: 1, price: 1, size: 1 });

  test("bad version, unknown kind, unknown exchange and truncation are typed errors", () => {
    const v1 = good();
    v1[1] = 0x21;
    expect(validateFrame(new DataView(v1.buffer), 0)).toBe(FrameError.BadVersion);
    const k = good();
    k[0] = 0x0f;
    expect(validateFrame(new DataView(k.buffer), 0)).toBe(FrameError.UnknownKind);
    const e = good();
    e[1] = 0x19;
    expect(validateFrame(new DataView(e.buffer), 0)).toBe(FrameError.UnknownExchange);
    expect(validateFrame(new DataView(good().buffer, 0, 40), 0)).toBe(FrameError.Truncated);
  });

  test("random bytes never throw and never hang; bad frames are skipped, good ones kept", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), fc.integer({ min: 1, max: 97 }), (bytes, chunk) => {
        let ok = 0;
        let bad = 0;
        const d = new FrameStreamDecoder(
          () => ok++,
          () => bad++,
        );
        for (let i = 0; i < bytes.length; i += chunk) d.push(bytes.subarray(i, i + chunk));
        expect(ok + bad).toBe(Math.floor(bytes.length / FRAME_SIZE));
        expect(d.pending).toBe(bytes.length % FRAME_SIZE);
      }),
    );
  });
});
