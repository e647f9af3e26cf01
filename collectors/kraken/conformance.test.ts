// The Kraken cases of the shared conformance suite (test/conformance.test.ts runs every venue together).
import { describe, expect, test } from "bun:test";
import { replayCase } from "../core/conformance.ts";
import { krakenConformance } from "./conformance.ts";

describe("conformance: kraken", () => {
  test("covers trades, books and best bid/offer", () => {
    const kinds = new Set(krakenConformance.cases.flatMap((c) => c.expected.map((f) => f.kind)));
    for (const kind of ["trade", "book", "bbo", "status"] as const) expect(kinds.has(kind)).toBe(true);
  });
  for (const c of krakenConformance.cases) {
    test(c.name, () => {
      const { frames, parseErrors } = replayCase(krakenConformance, c);
      expect(frames.length).toBe(c.expected.length);
      for (const [i, frame] of frames.entries()) expect(frame).toMatchObject(c.expected[i]!);
      expect(parseErrors).toBe(c.parseErrors ?? 0);
    });
  }
});
