// frames.json is what the codec writes today (regenerated and compared: `bun run golden` after a wire change),
// and every vector decodes back to its fields through the codec's readers, exactly.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  decodeFrame,
  FRAME_ERROR_NAMES,
  FrameOffset,
  frameExchange,
  frameFlags,
  frameInstrument,
  frameKind,
  frameSeq,
  frameStatus,
  frameVersion,
  validateFrame,
} from "../frame.ts";
import { FrameStreamDecoder } from "../stream.ts";
import { type GoldenVector, goldenFile, vectorInputs } from "./vectors.ts";

const path = join(import.meta.dir, "frames.json");
const text = await Bun.file(path).text();
const file = JSON.parse(text) as { vectors: GoldenVector[] };
const fromHex = (hex: string) => new DataView(Uint8Array.from(Buffer.from(hex, "hex")).buffer);

describe("golden vectors", () => {
  test("frames.json is exactly what the codec generates (run `bun run golden` after a wire change)", () => {
    // Compared as data: the file is biome-formatted, the generator's own text is plain JSON.stringify.
    expect(file).toEqual(JSON.parse(goldenFile()));
  });

  test("cover every kind, flag bit, status code, resync reason and error", () => {
    const v = file.vectors;
    expect(new Set(v.map((x) => x.fields.kind))).toEqual(
      new Set(["trade", "book", "bbo", "status", "unknown"]),
    );
    for (const kind of ["trade", "book", "bbo"]) {
      const bits = v
        .filter((x) => x.fields.kind === kind && x.error === "none")
        .reduce((a, x) => a | x.fields.flags, 0);
      expect(bits).toBe(kind === "trade" ? 0x70 : kind === "bbo" ? 0x90 : 0xf0);
    }
    expect(new Set(v.map((x) => x.fields.statusCode).filter((c) => c !== undefined))).toEqual(
      new Set(Array.from({ length: 16 }, (_, i) => i)),
    );
    expect(new Set(v.map((x) => x.fields.resyncReason).filter(Boolean)).size).toBe(7);
    expect(new Set(v.map((x) => x.error))).toEqual(
      new Set(Object.values(FRAME_ERROR_NAMES).filter((e) => e !== "truncated")),
    );
    for (const edge of ["0", "18446744073709551615", "-9223372036854775808", "9223372036854775807"]) {
      expect(
        v.some((x) => [x.fields.id, x.fields.price, x.fields.size, x.fields.tsRecv].includes(edge)),
      ).toBe(true);
    }
    expect(v.some((x) => x.fields.seq === 2 ** 32 - 1) && v.some((x) => x.fields.seq === 0)).toBe(true);
    expect(v.some((x) => x.fields.tsExchange === "0")).toBe(true);
    expect(v.length).toBe(vectorInputs().length);
  });

  test("each vector decodes to its fields, exactly, and gets its validateFrame verdict", () => {
    for (const x of file.vectors) {
      const view = fromHex(x.hex);
      const f = x.fields;
      const got = {
        kindCode: frameKind(view, 0),
        flags: frameFlags(view, 0),
        version: frameVersion(view, 0),
        exchangeCode: frameExchange(view, 0),
        instrument: frameInstrument(view, 0),
        seq: frameSeq(view, 0),
        id: view.getBigUint64(FrameOffset.id, true).toString(),
        price: view.getBigInt64(FrameOffset.price, true).toString(),
        size: view.getBigInt64(FrameOffset.size, true).toString(),
        tsExchange: view.getBigInt64(FrameOffset.tsExchange, true).toString(),
        tsRecv: view.getBigInt64(FrameOffset.tsRecv, true).toString(),
      };
      const want = {
        ...got,
        ...Object.fromEntries(Object.keys(got).map((k) => [k, f[k as keyof typeof f]])),
      };
      expect(got, x.name).toEqual(want);
      if (f.statusCode !== undefined) expect(frameStatus(view, 0)).toBe(f.statusCode);
      expect(FRAME_ERROR_NAMES[validateFrame(view, 0)], x.name).toBe(x.error);
      // The number readers agree wherever a double is exact.
      const d = decodeFrame(view, 0);
      if (Math.abs(Number(f.price)) <= Number.MAX_SAFE_INTEGER) expect(d.price).toBe(Number(f.price));
      if (Number(f.id) <= Number.MAX_SAFE_INTEGER) expect(d.id).toBe(Number(f.id));
    }
  });

  test("the stream decoder passes exactly the vectors marked none, in order", () => {
    const all = Buffer.concat(file.vectors.map((x) => Buffer.from(x.hex, "hex")));
    const got: string[] = [];
    const d = new FrameStreamDecoder((v, o) =>
      got.push(Buffer.from(v.buffer, v.byteOffset + o, 48).toString("hex")),
    );
    d.push(new Uint8Array(all));
    expect(got).toEqual(file.vectors.filter((x) => x.error === "none").map((x) => x.hex));
  });
});
