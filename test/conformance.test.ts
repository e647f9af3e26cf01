// One suite, every venue, run once: recorded real messages in, the normalized frames a person wrote down out.
import { describe, expect, test } from "bun:test";
import { binanceConformance } from "../collectors/binance/conformance.testkit.ts";
import { coinbaseConformance } from "../collectors/coinbase/conformance.testkit.ts";
import { replayCase, type VenueConformance } from "../collectors/core/conformance.testkit.ts";
import { krakenConformance } from "../collectors/kraken/conformance.testkit.ts";

const venues: VenueConformance[] = [krakenConformance, coinbaseConformance, binanceConformance];

for (const venue of venues) {
  describe(`conformance: ${venue.exchange}`, () => {
    test("has cases for trades, books, best bid/offer and status", () => {
      const kinds = new Set(venue.cases.flatMap((c) => c.expected.map((f) => f.kind)));
      for (const kind of ["trade", "book", "bbo", "status"] as const) expect(kinds.has(kind)).toBe(true);
    });
    for (const c of venue.cases) {
      test(`${c.name} (${c.source})`, () => {
        const { frames, parseErrors } = replayCase(venue, c);
        expect(frames.length).toBe(c.expected.length);
        for (const [i, frame] of frames.entries()) expect(frame).toMatchObject(c.expected[i]!);
        expect(parseErrors).toBe(c.parseErrors ?? 0);
      });
    }
  });
}
