// The value rules of the codec (valueError / validateFrame) against a reference written independently in BigInt
// terms from docs/wire-format.md, on hostile values: every i64 edge, every flag nibble, every status code.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  encodeFrame,
  FRAME_SIZE,
  FrameError,
  FrameOffset,
  isAcceptable,
  Kind,
  Status,
  validateFrame,
  valueError,
} from "./frame.ts";
import { FrameStreamDecoder } from "./stream.ts";

const MAX = 2n ** 53n - 1n;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
/** Flag bits with a meaning per kind, from the wire-format flag table. */
const MEANINGFUL: Record<number, number> = { 1: 0x70, 2: 0xf0, 3: 0x90 };

/** The reference: does the codec accept this frame's values? */
function accepts(kind: number, flags: number, price: bigint, size: bigint): boolean {
  if (kind === Kind.Status) return flags >> 4 <= Status.Ack;
  if ((flags & ~MEANINGFUL[kind]!) !== 0) return false;
  if (kind === Kind.Trade && (flags & 0x30) === 0x30) return false;
  const min = kind === Kind.Trade ? 1n : 0n;
  return price >= min && price <= MAX && size >= min && size <= MAX;
}

function frame(kind: number, flags: number, price: bigint, size: bigint): DataView {
  const view = new DataView(new ArrayBuffer(FRAME_SIZE));
  encodeFrame(view, 0, {
    kind: kind as Kind,
    flags,
    exchange: 1,
    instrument: 1,
    seq: 1,
    id: 1,
    price: 0,
    size: 0,
    tsExchange: 0,
    tsRecv: 0,
  });
  view.setBigInt64(FrameOffset.price, price, true);
  view.setBigInt64(FrameOffset.size, size, true);
  return view;
}

const edges = [
  I64_MIN,
  I64_MIN + 1n,
  -MAX - 1n,
  -MAX,
  -5000n,
  -1n,
  0n,
  1n,
  2n,
  MAX - 1n,
  MAX,
  MAX + 1n,
  2n ** 62n,
  I64_MAX,
];
const i64 = fc.oneof(
  fc.constantFrom(...edges),
  fc.bigInt({ min: I64_MIN, max: I64_MAX }),
  fc.bigInt({ min: -3n, max: MAX + 3n }),
);

describe("value rules", () => {
  test("validateFrame agrees with the reference on every kind, flag nibble and hostile price/size", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 15 }),
        i64,
        i64,
        (kind, nibble, price, size) => {
          const view = frame(kind, nibble << 4, price, size);
          const error = validateFrame(view, 0);
          expect(error === FrameError.None).toBe(accepts(kind, nibble << 4, price, size));
          expect(isAcceptable(new Uint8Array(view.buffer), 0)).toBe(error === FrameError.None);
        },
      ),
      { numRuns: 5000 },
    );
  });

  test("each refusal names its cause", () => {
    const e = (kind: number, flags: number, price: bigint, size: bigint) =>
      valueError(new Uint8Array(frame(kind, flags, price, size).buffer), 0);
    expect(e(Kind.Trade, 0, -500000n, 1n)).toBe(FrameError.BadPrice); // the probe's -5000.00
    expect(e(Kind.Trade, 0, 2n ** 62n, 1n)).toBe(FrameError.BadPrice); // the probe's 46,116,860,184,273,879.04
    expect(e(Kind.Trade, 0, 0n, 1n)).toBe(FrameError.BadPrice);
    expect(e(Kind.Trade, 0, 1n, 0n)).toBe(FrameError.BadSize);
    expect(e(Kind.Trade, 0, 1n, -1n)).toBe(FrameError.BadSize);
    expect(e(Kind.Trade, 0x30, 1n, 1n)).toBe(FrameError.UnknownFlags);
    expect(e(Kind.Trade, 0x80, 1n, 1n)).toBe(FrameError.UnknownFlags);
    expect(e(Kind.Bbo, 0x20, 1n, 1n)).toBe(FrameError.UnknownFlags);
    expect(e(Kind.BookLevel, 0xf0, 0n, 0n)).toBe(FrameError.None); // an empty snapshot
    expect(e(Kind.BookLevel, 0, -1n, 0n)).toBe(FrameError.BadPrice);
    expect(e(Kind.BookLevel, 0, 1n, -1n)).toBe(FrameError.BadSize);
    expect(e(Kind.Status, 15 << 4, 0n, 0n)).toBe(FrameError.UnknownStatus);
    expect(e(Kind.Status, Status.Ack << 4, -7n, I64_MIN)).toBe(FrameError.None); // status values are not prices
  });

  test("the stream decoder hands on exactly the frames validateFrame accepts, and names the others", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 15 }), i64, i64), {
          maxLength: 20,
        }),
        (list) => {
          const stream = new Uint8Array(list.length * FRAME_SIZE);
          const expected: number[] = [];
          const refused: number[] = [];
          list.forEach(([kind, nibble, price, size], i) => {
            stream.set(new Uint8Array(frame(kind, nibble << 4, price, size).buffer), i * FRAME_SIZE);
            new DataView(stream.buffer).setUint32(i * FRAME_SIZE + FrameOffset.seq, i, true);
            (accepts(kind, nibble << 4, price, size) ? expected : refused).push(i);
          });
          const got: number[] = [];
          const errors: number[] = [];
          const d = new FrameStreamDecoder(
            (v, o) => got.push(v.getUint32(o + FrameOffset.seq, true)),
            (error, v, o) => {
              expect(error).not.toBe(FrameError.None);
              errors.push(v.getUint32(o + FrameOffset.seq, true));
            },
          );
          d.push(stream);
          expect(got).toEqual(expected);
          expect(errors).toEqual(refused);
        },
      ),
    );
  });
});
