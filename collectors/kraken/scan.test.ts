import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { JsonScanner, Value } from "./scan.ts";

/** Walk any JSON value with the scanner, rebuilding it from the spans (numbers through JSON.parse here only). */
function rebuild(sc: JsonScanner): unknown {
  const at = sc.pos;
  const kind = sc.readValue();
  const span = () => sc.text.slice(sc.valStart, sc.valEnd);
  switch (kind) {
    case Value.String:
      return JSON.parse(`"${span()}"`);
    case Value.Number:
    case Value.Literal:
      return JSON.parse(span());
    case Value.Object: {
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
    case Value.Array: {
      sc.pos = at;
      sc.openArray();
      const out: unknown[] = [];
      while (sc.nextElement()) out.push(rebuild(sc));
      return out;
    }
    default:
      throw new Error(`bad value at ${at}`);
  }
}

describe("JsonScanner", () => {
  test("walks any JSON document to the same value JSON.parse gives", () => {
    const sc = new JsonScanner();
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        sc.reset(text);
        const rebuilt = rebuild(sc);
        expect(sc.failed).toBe(false);
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
      expect(sc.readValue()).toBe(Value.Number);
      seen.push(sc.text.slice(sc.valStart, sc.valEnd));
    }
    expect(seen).toEqual(["0.10000000", "1e-08", "-45285.20"]);
  });

  test("never throws on hostile text, and flags truncation", () => {
    const sc = new JsonScanner();
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'{}[]",:\\0123456789.eE-+tfnrul \n') }), (text) => {
        sc.reset(text);
        sc.readValue();
        sc.atEnd();
      }),
    );
    const text = '{"channel":"trade","data":[{"price":1}]}';
    for (let cut = 0; cut < text.length; cut++) {
      sc.reset(text.slice(0, cut));
      if (sc.openObject()) while (sc.nextKey()) sc.readValue();
      expect(sc.failed).toBe(true);
    }
  });

  test("an escaped quote does not end a string", () => {
    const sc = new JsonScanner();
    sc.reset('{"a":"x\\"y\\\\","b":1}');
    sc.openObject();
    expect(sc.nextKey()).toBe(true);
    expect(sc.readValue()).toBe(Value.String);
    expect(sc.text.slice(sc.valStart, sc.valEnd)).toBe('x\\"y\\\\');
    expect(sc.nextKey() && sc.keyIs("b")).toBe(true);
  });
});
