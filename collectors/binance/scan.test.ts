import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { JsonScanner, JsonKind as JsonType, parseDigits } from "../core/json.ts";
import { LevelCursor } from "./levels.ts";

/** Members of an object as the cursor sees them: key, type and the raw value text. */
function members(text: string): Array<[string, number, string]> | null {
  const c = new JsonScanner();
  const out: Array<[string, number, string]> = [];
  c.reset(text);
  if (c.openObject())
    while (c.nextMember()) out.push([text.slice(c.keyStart, c.keyEnd), c.kind, text.slice(c.start, c.stop)]);
  return !c.bad && c.atEnd() ? out : null;
}

const typeOf = (v: unknown): number =>
  typeof v === "string"
    ? JsonType.String
    : typeof v === "number"
      ? JsonType.Number
      : v === true
        ? JsonType.True
        : v === false
          ? JsonType.False
          : v === null
            ? JsonType.Null
            : Array.isArray(v)
              ? JsonType.Array
              : JsonType.Object;

describe("JsonScanner members (binance-style use)", () => {
  test("reads a combined-stream message in place", () => {
    const text = '{"stream":"btcusdt@trade","data":{"e":"trade","t":5,"m":true,"x":null,"p":"1.0"}}';
    expect(members(text)).toEqual([
      ["stream", JsonType.String, "btcusdt@trade"],
      ["data", JsonType.Object, '{"e":"trade","t":5,"m":true,"x":null,"p":"1.0"}'],
    ]);
  });

  test("agrees with JSON.parse on any object JSON.stringify writes, with or without whitespace", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), (obj, pretty) => {
        const text = pretty ? JSON.stringify(obj, null, 2) : JSON.stringify(obj);
        const got = members(text);
        expect(got).not.toBeNull();
        // Compare with what JSON.parse reads back (stringify writes -0 as 0).
        const parsed = JSON.parse(text) as Record<string, unknown>;
        const keys = Object.keys(parsed);
        // JSON.parse keeps the last of duplicate keys; stringify never writes duplicates.
        expect(got!.map((m) => JSON.parse(`"${m[0]}"`))).toEqual(keys);
        got!.forEach(([, type, raw], i) => {
          const value = parsed[keys[i]!];
          expect(type).toBe(typeOf(value));
          expect(JSON.parse(type === JsonType.String ? `"${raw}"` : raw)).toEqual(value);
        });
      }),
    );
  });

  test("rejects malformed objects without throwing", () => {
    for (const bad of [
      '{"a":1,}',
      '{"a" 1}',
      '{"a":1',
      '{"a":tru}',
      '{"a":"x}',
      "[1]",
      "",
      "{",
      '{"a":[1,2}',
      '{"a":1 "b":2}',
    ])
      expect(members(bad)).toBeNull();
  });

  test("never throws on arbitrary text, and never reads past the limit", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'{}[]":,\\ a1.-etrufnl') }), (text) => {
        const c = new JsonScanner();
        c.reset(text);
        if (c.openObject()) while (c.nextMember()) expect(c.stop).toBeLessThanOrEqual(text.length);
        c.atEnd();
      }),
    );
  });
});

describe("LevelCursor", () => {
  const levels = (text: string) => {
    const c = new LevelCursor();
    const out: string[][] = [];
    c.open(text, 0, text.length);
    while (c.next()) out.push([text.slice(c.priceStart, c.priceEnd), text.slice(c.sizeStart, c.sizeEnd)]);
    return c.failed ? null : out;
  };

  test("reads price/qty pairs, tolerating extra elements and whitespace", () => {
    expect(levels('[["0.0024","10"], [ "0.0025" , "0" , "x" ]]')).toEqual([
      ["0.0024", "10"],
      ["0.0025", "0"],
    ]);
    expect(levels("[]")).toEqual([]);
  });

  test("rejects malformed lists", () => {
    for (const bad of ['[["1"]]', '[["1","2"],]', '[["1","2"]', '[{"p":"1"}]', '[["1",["2"]]]', "[1,2]"])
      expect(levels(bad)).toBeNull();
  });

  test("agrees with JSON.parse on generated level lists", () => {
    const dec = fc.stringMatching(/^[0-9]{1,6}\.[0-9]{8}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(dec, dec), { maxLength: 50 }), (list) => {
        expect(levels(JSON.stringify(list))).toEqual(list);
      }),
    );
  });
});

describe("parseDigits", () => {
  test("exact up to 2^53-1, -1 beyond or on junk", () => {
    const s = "x9007199254740991y";
    expect(parseDigits(s, 1, 17)).toBe(9007199254740991);
    expect(parseDigits("9007199254740992", 0, 16)).toBe(-1);
    expect(parseDigits("1790649901913000", 0, 16)).toBe(1790649901913000);
    for (const bad of ["", "-1", "1.5", "1e3", " 1"]) expect(parseDigits(bad, 0, bad.length)).toBe(-1);
  });
});
