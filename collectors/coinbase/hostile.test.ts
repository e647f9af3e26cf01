// Hostile input never throws, never leaves frames half-staged, and only ever produces valid frames.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  encodeFrame,
  FLAG_BEGIN,
  FLAG_END,
  FRAME_SIZE,
  FrameError,
  validateFrame,
} from "../../schema/frame.ts";
import { envelope, harness, l2, ticker, trades } from "./venue.testkit.ts";

const fixtures = [
  "advanced_docs_level2_snapshot.json",
  "advanced_nautilus_synthetic_ws_l2_data_update.json",
  "advanced_docs_market_trades.json",
  "advanced_docs_ticker.json",
  "advanced_nautilus_synthetic_ws_market_trades.json",
].map(
  (name) => require("node:fs").readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8") as string,
);

const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.json({ maxDepth: 5 }),
  // Right envelope, anything inside.
  fc
    .record({
      channel: fc.constantFrom(
        "l2_data",
        "market_trades",
        "ticker",
        "heartbeats",
        "subscriptions",
        "status",
        "",
      ),
      sequence_num: fc.oneof(fc.nat(), fc.jsonValue()),
      timestamp: fc.oneof(fc.constant("2026-01-02T03:04:05.1Z"), fc.string()),
      events: fc.jsonValue({ maxDepth: 4 }),
    })
    .map((r) => JSON.stringify(r)),
  // Right shapes, hostile field values.
  fc
    .tuple(
      fc.nat({ max: 20 }),
      fc.constantFrom("BTC-USD", "ETH-USD", "SHIB-USD", "NOPE"),
      fc.array(fc.tuple(fc.constantFrom("bid", "offer", "ask", "?"), fc.string(), fc.string()), {
        maxLength: 5,
      }),
      fc.constantFrom<"snapshot" | "update">("snapshot", "update"),
    )
    .map(([seq, product, levels, type]) => JSON.stringify(l2(seq, type, product, levels))),
  fc
    .tuple(
      fc.nat({ max: 20 }),
      fc.array(
        fc.record({
          id: fc.string(),
          price: fc.string(),
          size: fc.string(),
          side: fc.string(),
          time: fc.string(),
        }),
        { maxLength: 4 },
      ),
    )
    .map(([seq, list]) => JSON.stringify(trades(seq, "update", list))),
  fc
    .tuple(fc.nat({ max: 20 }), fc.string(), fc.string(), fc.string(), fc.string())
    .map(([seq, a, b, c, d]) => JSON.stringify(ticker(seq, "BTC-USD", a, b, c, d))),
  // Recorded messages cut or corrupted at a random place.
  fc
    .tuple(fc.constantFrom(...fixtures), fc.nat(), fc.string({ maxLength: 3 }))
    .map(
      ([fixture, at, junk]) =>
        fixture.slice(0, at % fixture.length) + junk + fixture.slice((at % fixture.length) + 1),
    ),
);

describe("hostile input", () => {
  test("never throws, always commits, and every frame is valid", () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 8 }), (messages) => {
        const h = harness();
        for (const message of messages) {
          h.feed(message);
          expect(h.t.ctx.emitter.pending).toBe(0);
        }
        const view = new DataView(new ArrayBuffer(FRAME_SIZE));
        for (const f of h.frames()) {
          encodeFrame(view, 0, f);
          expect(validateFrame(view, 0)).toBe(FrameError.None);
        }
        h.t.ctx.resyncs.stop();
      }),
      { numRuns: 250 },
    );
  });

  test("a huge snapshot is emitted whole across staging commits", () => {
    const h = harness();
    const levels: Array<[string, string, string]> = [];
    for (let i = 0; i < 66_000; i++)
      levels.push(["bid", `${1 + Math.floor(i / 100)}.${String(i % 100).padStart(2, "0")}`, "1"]);
    h.feed(
      envelope("l2_data", 0, [
        {
          type: "snapshot",
          product_id: "BTC-USD",
          updates: levels.map(([side, price_level, new_quantity]) => ({ side, price_level, new_quantity })),
        },
      ]),
    );
    const frames = h.frames();
    expect(frames.length).toBe(66_000);
    expect(h.parseErrors()).toBe(0);
    expect(frames.filter((f) => f.flags & FLAG_BEGIN).length).toBe(1);
    expect(frames[0]!.flags & FLAG_BEGIN).toBe(FLAG_BEGIN);
    expect(frames.at(-1)!.flags & FLAG_END).toBe(FLAG_END);
    expect(frames.filter((f) => f.flags & FLAG_END).length).toBe(1);
  });
});
