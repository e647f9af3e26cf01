// The exact decimal formatting of the aggregations' integer results: the one-pass functions (unitsDecimal,
// divideUnits) give the same text as the string versions (trimDecimal(unitsText(…)), divideDecimal) they replace.
import { describe, expect, test } from "bun:test";
import { divideDecimal, divideUnits, trimDecimal, unitsDecimal, unitsText } from "./queries.ts";

// A deterministic spread of integers: zero, ±1, small and large, with and without trailing zeros, past 2⁶⁴.
function integers(): bigint[] {
  const out = [
    0n,
    1n,
    -1n,
    5n,
    -5n,
    10n,
    100n,
    120n,
    -120n,
    999999999n,
    1000000000n,
    2n ** 63n,
    -(2n ** 63n),
    3n * 10n ** 30n,
  ];
  let x = 88172645463325252n;
  for (let i = 0; i < 400; i++) {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    const digits = Number(x % 30n);
    let v = x % 10n ** BigInt(digits + 1);
    if (i % 3 === 0) v *= 10n ** BigInt(i % 7);
    out.push(i % 2 ? -v : v);
  }
  return out;
}

describe("exact decimal text from integer units", () => {
  test("unitsDecimal equals trimDecimal(unitsText(…)) at every scale", () => {
    for (const v of integers())
      for (const scale of [0, 1, 2, 5, 8, 9, 17])
        expect([v, scale, unitsDecimal(v, scale)]).toEqual([v, scale, trimDecimal(unitsText(v, scale))]);
    expect(unitsDecimal(12n, 9)).toBe("0.000000012");
    expect(unitsDecimal(-9000015000000n, 9)).toBe("-9000.015");
    expect(unitsDecimal(4200, 2)).toBe("42");
    expect(unitsDecimal(null, 2)).toBeNull();
  });

  test("divideUnits equals divideDecimal on the same values' text, rounding half away from zero", () => {
    const xs = integers();
    for (let i = 0; i < xs.length; i++) {
      const a = xs[i] as bigint;
      const b = xs[(i * 7 + 3) % xs.length] as bigint;
      for (const [as, bs, places] of [
        [17, 8, 13],
        [4, 2, 3],
        [2, 2, 0],
        [9, 0, 2],
      ] as const)
        expect([a, b, as, bs, places, divideUnits(a, as, b, bs, places)]).toEqual([
          a,
          b,
          as,
          bs,
          places,
          divideDecimal(unitsText(a, as) ?? "0", unitsText(b, bs) ?? "0", places),
        ]);
    }
    // 0.125 / 1 to 2 places: 0.13; −0.125: −0.13; −0.004 to 2 places: 0 (no sign).
    expect(divideUnits(125n, 3, 1n, 0, 2)).toBe("0.13");
    expect(divideUnits(-125n, 3, 1n, 0, 2)).toBe("-0.13");
    expect(divideUnits(-4n, 3, 1n, 0, 2)).toBe("0");
    expect(divideUnits(1n, 0, 0n, 0, 2)).toBeNull();
  });
});
