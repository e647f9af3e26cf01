import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { JsonKind, JsonScanner } from "./json.ts";

/** Walk any JSON value with the scanner, rebuilding it from the spans (numbers through JSON.parse here only). */
function rebuild(sc: JsonScanner): unknown {
  const at = sc.pos;
  sc.skip();
  const kind = sc.kind;
  const span = () => sc.text.slice(sc.start, sc.stop);
  switch (kind) {
    case JsonKind.String:
      return JSON.parse(`"${span()}"`);
    case JsonKind.Number:
    case JsonKind.True:
    case JsonKind.False:
    case JsonKind.Null:
      return JSON.parse(span());
    case JsonKind.Object: {
      sc.pos = at;
      sc.openObject();
      const out: Record<string, unknown> = {};
      while (sc.nextKey()) {
        const key = JSON.parse(`"${sc.text.slice(sc.keyStart, sc.keyEnd)}"`) as string;
        Object.defineProperty(out, key, {
          value: rebuild(sc),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case JsonKind.Array: {
      sc.pos = at;
      sc.openArray();
      const out: unknown[] = [];
      while (sc.nextItem()) out.push(rebuild(sc));
      return out;
    }
    default:
      throw new Error(`bad value at ${at}`);
  }
}

describe("JsonScanner walks (kraken-style use)", () => {
  test("walks any JSON document to the same value JSON.parse gives", () => {
    const sc = new JsonScanner();
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        sc.reset(text);
        const rebuilt = rebuild(sc);
        expect(sc.bad).toBe(false);
        expect(sc.atEnd()).toBe(true);
        expect(rebuilt).toEqual(JSON.parse(text));
      }),
    );
  });

  test("number spans are the exact wire text (trailing zeros and exponents kept)", () => {
    const sc = new JsonScanner();
    sc.reset('{"qty":0.10000000,"p":1e-08,"n":-45285.20}');
    const seen: string[] = [];
    sc.openObject();
    while (sc.nextKey()) {
      sc.skip();
      expect(sc.kind).toBe(JsonKind.Number);
      seen.push(sc.text.slice(sc.start, sc.stop));
    }
    expect(seen).toEqual(["0.10000000", "1e-08", "-45285.20"]);
  });

  test("never throws on hostile text, and flags truncation", () => {
    const sc = new JsonScanner();
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'{}[]",:\\0123456789.eE-+tfnrul \n') }), (text) => {
        sc.reset(text);
        sc.skip();
        sc.atEnd();
      }),
    );
    const text = '{"channel":"trade","data":[{"price":1}]}';
    for (let cut = 0; cut < text.length; cut++) {
      sc.reset(text.slice(0, cut));
      if (sc.openObject()) while (sc.nextKey()) sc.skip();
      expect(sc.bad).toBe(true);
    }
  });

  test("an escaped quote does not end a string", () => {
    const sc = new JsonScanner();
    sc.reset('{"a":"x\\"y\\\\","b":1}');
    sc.openObject();
    expect(sc.nextKey()).toBe(true);
    sc.skip();
    expect(sc.kind).toBe(JsonKind.String);
    expect(sc.text.slice(sc.start, sc.stop)).toBe('x\\"y\\\\');
    expect(sc.nextKey() && sc.keyIs("b")).toBe(true);
  });
});
