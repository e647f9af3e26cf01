import { describe, expect, test } from "bun:test";
import { type ExpectedFrame, replayCase } from "../core/conformance.ts";
import { binanceConformance } from "./index.ts";

/** Only the fields a case writes down are compared. */
function pick(actual: ExpectedFrame, expected: ExpectedFrame): Partial<ExpectedFrame> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) out[key] = actual[key as keyof ExpectedFrame];
  return out;
}

describe("binance conformance", () => {
  for (const c of binanceConformance.cases) {
    test(c.name, () => {
      const { frames, parseErrors } = replayCase(binanceConformance, c);
      expect(frames.map((f, i) => (c.expected[i] ? pick(f, c.expected[i]!) : f))).toEqual(c.expected);
      expect(parseErrors).toBe(c.parseErrors ?? 0);
    });
  }
});
