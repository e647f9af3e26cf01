import { describe, expect, test } from "bun:test";
import { type ExpectedFrame, replayCase } from "../core/conformance.ts";
import { coinbaseConformance } from "./index.ts";

/** Keep only the fields the case wrote down (omitted fields are not compared). */
function pick(actual: ExpectedFrame, expected: ExpectedFrame): Partial<ExpectedFrame> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) out[key] = actual[key as keyof ExpectedFrame];
  return out;
}

describe("coinbase conformance on recorded messages", () => {
  for (const c of coinbaseConformance.cases) {
    test(c.name, () => {
      const { frames, parseErrors } = replayCase(coinbaseConformance, c);
      expect(frames.length).toBe(c.expected.length);
      expect(frames.map((f, i) => pick(f, c.expected[i] ?? f))).toEqual(c.expected);
      expect(parseErrors).toBe(c.parseErrors ?? 0);
    });
  }
});
