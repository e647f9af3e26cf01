import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { JsonKind, JsonScanner, MAX_DEPTH, parseDigits } from "./json.ts";

const s = new JsonScanner();

function validates(text: string): boolean {
  s.reset(text);
  return s.validate();
}

/** The scanner tolerates raw control characters inside strings (its one leniency); otherwise it agrees. */
function agrees(text: string): void {
  const ok = validates(text);
  if (parses(text)) expect(ok).toBe(true);
  else if (ok) expect([...text].some((ch) => ch.charCodeAt(0) < 32)).toBe(true);
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Walk an object with the scanner and return its keys (decoded) and raw value spans. */
function walk(text: string): Array<[string, string]> {
  s.reset(text);
  s.enter();
  const out: Array<[string, string]> = [];
  while (s.nextKey()) {
    const key = JSON.parse(`"${text.slice(s.keyStart, s.keyEnd)}"`) as string;
    s.skip();
    out.push([
      key,
      text.slice(
        s.kind === JsonKind.String ? s.start - 1 : s.start,
        s.kind === JsonKind.String ? s.stop + 1 : s.stop,
      ),
    ]);
  }
  return out;
}

describe("JsonScanner", () => {
  test("accepts what JSON.parse accepts, for generated JSON", () => {
    fc.assert(fc.property(fc.json({ maxDepth: 6 }), (text) => expect(validates(text)).toBe(true)));
  });

  test("agrees with JSON.parse on mutated JSON (deleted, inserted, replaced characters)", () => {
    const mutated = fc
      .tuple(
        fc.json({ maxDepth: 4 }),
        fc.nat(),
        fc.constantFrom(...'{}[]",:0-.eE \\tnul'),
        fc.integer({ min: 0, max: 2 }),
      )
      .map(([text, at, ch, op]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        if (op === 0) return text.slice(0, i) + text.slice(i + 1);
        if (op === 1) return text.slice(0, i) + ch + text.slice(i);
        return text.slice(0, i) + ch + text.slice(i + 1);
      });
    fc.assert(fc.property(mutated, agrees), { numRuns: 3000 });
  });

  test("agrees with JSON.parse on arbitrary strings and never throws", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 40 }), agrees));
  });

  test("escapes are checked wherever a backslash appears", () => {
    expect(validates('{"a":"x\\"y","b":"\\u00e9","c":"\\\\"}')).toBe(true);
    expect(validates('{"a":"\\q"}')).toBe(false);
    expect(validates('{"a":"\\u12"}')).toBe(false);
    expect(validates('{"a":"ok","b":"\\"}')).toBe(false);
    expect(validates('["\t"]')).toBe(true); // tolerated raw control character
  });

  test("rejects nesting deeper than MAX_DEPTH without recursion", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(validates(deep)).toBe(false);
    const ok = "[".repeat(MAX_DEPTH) + "]".repeat(MAX_DEPTH);
    expect(validates(ok)).toBe(true);
    expect(validates(`{"a":${"[".repeat(MAX_DEPTH)}`)).toBe(false);
  });

  test("walks object keys and value spans in order", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })), (obj) => {
        const text = JSON.stringify(obj, null, 1);
        const walked = walk(text);
        expect(walked.map(([k]) => k)).toEqual(Object.keys(obj));
        for (const [k, raw] of walked) expect(JSON.parse(raw)).toEqual(JSON.parse(JSON.stringify(obj[k])));
      }),
    );
  });

  test("nextItem walks arrays, including empty ones", () => {
    const text = ' [ 1 , "two" , [ ] , { "x" : null } ] ';
    s.reset(text);
    s.enter();
    const kinds: number[] = [];
    while (s.nextItem()) {
      s.skip();
      kinds.push(s.kind);
    }
    expect(kinds).toEqual([JsonKind.Number, JsonKind.String, JsonKind.Array, JsonKind.Object]);
    expect(s.ws()).toBe(-1);
  });

  test("keyIs and stringIs compare spans without slicing", () => {
    s.reset('{"channel":"l2_data","x":"l2_dat"}');
    s.enter();
    s.nextKey();
    expect(s.keyIs("channel")).toBe(true);
    expect(s.keyIs("channe")).toBe(false);
    s.skip();
    expect(s.stringIs("l2_data")).toBe(true);
    s.nextKey();
    s.skip();
    expect(s.stringIs("l2_data")).toBe(false);
  });
});

describe("parseDigits", () => {
  test("reads digit strings exactly up to 2^53 - 1", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) }),
        fc.nat({ max: 3 }),
        (n, zeros) => {
          const text = "0".repeat(zeros) + n.toString();
          expect(parseDigits(text, 0, text.length)).toBe(Number(n));
        },
      ),
    );
  });

  test("rejects empty, non-digits and values beyond 2^53 - 1", () => {
    expect(parseDigits("", 0, 0)).toBe(-1);
    expect(parseDigits("12a", 0, 3)).toBe(-1);
    expect(parseDigits("-1", 0, 2)).toBe(-1);
    expect(parseDigits("1.5", 0, 3)).toBe(-1);
    expect(parseDigits("9007199254740992", 0, 16)).toBe(-1);
    expect(parseDigits("9007199254740991", 0, 16)).toBe(9007199254740991);
  });
});
