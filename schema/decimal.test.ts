import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { DecimalError, decimalError, formatFixed, formatFixedBig, parseFixed } from "./decimal.ts";

describe("parseFixed", () => {
  test.each([
    ["45283.5", 1, 452835],
    ["45283.5", 2, 4528350],
    ["0.10000000", 8, 10000000],
    ["0.00000001", 8, 1],
    ["1e-8", 8, 1],
    ["1E-08", 8, 1],
    ["4.2e+3", 2, 420000],
    ["-0.5", 3, -500],
    ["+7", 0, 7],
    ["0", 8, 0],
    ["0.000000000000000000000000", 8, 0],
    ["00012.30", 1, 123],
    ["5.", 0, 5],
    [".5", 1, 5],
    // SHIB-sized: 50 billion units at 5 decimals, and a SHIB price at 9 decimals
    ["50000000000.12345", 5, 5000000000012345],
    ["0.000012345", 9, 12345],
    // BTC-sized price at 2 decimals
    ["123456789.01", 2, 12345678901],
  ] as const)("%s at %d decimals = %d", (text, decimals, mantissa) => {
    expect(parseFixed(text, decimals)).toBe(mantissa);
    expect(decimalError()).toBe(DecimalError.None);
  });

  test.each([
    ["0.123", 2, DecimalError.NotExact],
    ["1e-9", 8, DecimalError.NotExact],
    ["abc", 2, DecimalError.Malformed],
    ["", 2, DecimalError.Malformed],
    ["-", 2, DecimalError.Malformed],
    ["1.2.3", 2, DecimalError.Malformed],
    ["0.-10000", 8, DecimalError.Malformed], // seen by tardis in Coinbase data
    ["1e", 2, DecimalError.Malformed],
    ["NaN", 2, DecimalError.Malformed],
    ["Infinity", 2, DecimalError.Malformed],
    ["99999999999999999", 0, DecimalError.Overflow],
    ["90071992547409.92", 2, DecimalError.Overflow],
    ["1e300", 0, DecimalError.Overflow],
  ] as const)("%s at %d decimals fails with %d", (text, decimals, error) => {
    expect(parseFixed(text, decimals)).toBeNaN();
    expect(decimalError()).toBe(error);
  });

  test("parses a slice of a larger string in place", () => {
    const raw = '{"price":45283.5,"qty":0.00100000}';
    const start = raw.indexOf("0.001");
    expect(parseFixed(raw, 8, start, raw.indexOf("}"))).toBe(100000);
  });

  test("round trips through formatFixed for every safe mantissa and decimals", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.integer({ min: 0, max: 18 }), fc.boolean(), (m, d, trim) => {
        const text = formatFixed(m, d, trim);
        expect(parseFixed(text, d)).toBe(m);
        expect(formatFixedBig(BigInt(m), d, trim)).toBe(text);
      }),
    );
  });

  test("agrees with a BigInt reference on random decimal text", () => {
    const digits = fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(digits, digits, fc.integer({ min: 0, max: 12 }), (intPart, frac, d) => {
        const text = `${intPart}.${frac}`;
        const got = parseFixed(text, d);
        const trimmed = frac.replace(/0+$/, "");
        if (trimmed.length > d) return expect(got).toBeNaN();
        // Only zeros are dropped by the slice, since the trimmed fraction fits.
        const ref = BigInt(intPart + frac.padEnd(d, "0").slice(0, d));
        if (ref > BigInt(Number.MAX_SAFE_INTEGER)) expect(got).toBeNaN();
        else expect(BigInt(got)).toBe(ref);
      }),
    );
  });

  test("hostile strings never throw", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 18 }), (s, d) => {
        const m = parseFixed(s, d);
        expect(Number.isNaN(m) || Number.isSafeInteger(m)).toBe(true);
      }),
    );
  });
});

describe("formatFixed", () => {
  test("exact text with and without trailing zeros", () => {
    expect(formatFixed(452835, 1)).toBe("45283.5");
    expect(formatFixed(10000000, 8)).toBe("0.1");
    expect(formatFixed(10000000, 8, false)).toBe("0.10000000");
    expect(formatFixed(-500, 3)).toBe("-0.5");
    expect(formatFixed(0, 2)).toBe("0");
    expect(formatFixed(1, 9)).toBe("0.000000001");
    expect(formatFixedBig(9223372036854775807n, 8)).toBe("92233720368.54775807");
  });
});
