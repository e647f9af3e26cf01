// A book rebuilt from storage equals the book the bridge held: random snapshots and deltas go through a real
// bridge into Postgres and, beside it, through the bridge's BookState; at every update (and between updates)
// the rebuilt book must equal the one held then. Kraken runs with its strict depth cut, Coinbase with lazy pruning.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { type FreshDatabase, freshDatabase, waitFor } from "../../lib/testing.ts";
import { formatFixed } from "../../schema/decimal.ts";
import {
  Exchange,
  encodeFrame,
  FLAG_ASK,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  FRAME_SIZE,
  FrameOffset,
  Kind,
} from "../../schema/frame.ts";
import { loadRegistry } from "../../schema/instruments.ts";
import type { BookLevel } from "../../schema/messages.ts";
import { BookState } from "../book.ts";
import { startBridge } from "../bridge.ts";
import { loadBridgeConfig } from "../config.ts";
import { memoryLogger } from "../testing.ts";
import { rebuildBook } from "./book-history.ts";

const KRAKEN_DEPTH = 3;
const OTHER_DEPTH = 4;
const registry = loadRegistry({});
let db: FreshDatabase;
let spool: string;
beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_book_history" });
  spool = mkdtempSync(join(tmpdir(), "tw-book-history-"));
});
afterAll(async () => {
  await db.drop();
  rmSync(spool, { recursive: true, force: true });
});

const level = fc.record({
  ask: fc.boolean(),
  price: fc.integer({ min: 1, max: 20 }),
  size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
});
const update = fc.record({ snapshot: fc.boolean(), levels: fc.array(level, { minLength: 1, maxLength: 6 }) });
const venue = fc.constantFrom(
  { exchange: Exchange.Kraken, symbol: "BTC-USD", depth: KRAKEN_DEPTH, strict: true },
  { exchange: Exchange.Coinbase, symbol: "ETH-USD", depth: OTHER_DEPTH, strict: false },
);

let nextSeq = 1;
let clock = 1_700_000_000_000_000_000n;

test("the book rebuilt from book_changes equals the book the bridge held, at every moment", async () => {
  const config = loadBridgeConfig({
    BRIDGE_PORT: "0",
    BRIDGE_HOST: "127.0.0.1",
    BRIDGE_METRICS_PORT: "-1",
    DATABASE_URL: db.url,
    BRIDGE_SPOOL_DIR: spool,
    KRAKEN_BOOK_DEPTH: String(KRAKEN_DEPTH),
    BRIDGE_BOOK_DEPTH: String(OTHER_DEPTH),
  });
  await using bridge = await startBridge({ config, log: memoryLogger(), registry });
  type Venue = typeof venue extends fc.Arbitrary<infer V> ? V : never;
  type Update = typeof update extends fc.Arbitrary<infer U> ? U : never;
  const check = async (v: Venue, updates: Update[]) => {
    const inst = registry.bySymbol(v.symbol)!;
    const held = new BookState(v.depth, v.strict);
    const frame = new DataView(new ArrayBuffer(FRAME_SIZE));
    const moments: { atNs: bigint; bids: BookLevel[]; asks: BookLevel[]; seq: number }[] = [];
    const text = (flat: number[]) => {
      const out: BookLevel[] = [];
      for (let i = 0; i < flat.length; i += 2)
        out.push([formatFixed(flat[i]!, inst.priceDecimals), formatFixed(flat[i + 1]!, inst.sizeDecimals)]);
      return out;
    };
    clock += 1_000_000_000n;
    for (const [u, up] of updates.entries()) {
      const snapshot = u === 0 || up.snapshot; // every run starts from a snapshot
      clock += 1000n;
      for (const [i, l] of up.levels.entries()) {
        const flags =
          (l.ask ? FLAG_ASK : 0) |
          (snapshot ? FLAG_SNAPSHOT : 0) |
          (snapshot && i === 0 ? FLAG_BEGIN : 0) |
          (i === up.levels.length - 1 ? FLAG_END : 0);
        encodeFrame(frame, 0, {
          kind: Kind.BookLevel,
          flags,
          exchange: v.exchange,
          instrument: inst.id,
          seq: nextSeq++,
          id: u + 1,
          price: l.price,
          size: l.size,
          tsExchange: 0,
          tsRecv: 0,
        });
        frame.setBigInt64(FrameOffset.tsRecv, clock, true);
        bridge.onFrame(frame, 0);
        if (held.add(frame, 0)) {
          held.applyGroup();
          held.clearGroup();
          moments.push({
            atNs: clock,
            bids: text(held.levels(false)),
            asks: text(held.levels(true)),
            seq: nextSeq - 1,
          });
        }
      }
    }
    bridge.sealRows();
    await waitFor(() => bridge.writer!.idle, { timeoutMs: 15_000, what: "the writer idle" });
    const query = {
      exchange: v.exchange,
      instrumentId: inst.id,
      ...inst,
      depth: v.depth,
      strict: v.strict,
    };
    for (const m of moments) {
      // At the update, and half-way to the next one (nothing changed in between).
      for (const atNs of [m.atNs, m.atNs + 500n]) {
        const book = await rebuildBook(db.sql, { ...query, atNs });
        expect({ bids: book?.bids, asks: book?.asks, seq: book?.seq }).toEqual({
          bids: m.bids,
          asks: m.asks,
          seq: m.seq,
        });
      }
    }
  };
  // One update whose frames cross a digit boundary (seq 98..100) and whose order matters: the delete at 100
  // must come after the snapshot begins at 98 (an ORDER BY on a ::text alias once put "100" first).
  nextSeq = 98;
  await check({ exchange: Exchange.Coinbase, symbol: "ETH-USD", depth: OTHER_DEPTH, strict: false }, [
    {
      snapshot: true,
      levels: [
        { ask: false, price: 5, size: 1 },
        { ask: false, price: 6, size: 1 },
        { ask: false, price: 5, size: 0 },
      ],
    },
  ]);
  await fc.assert(fc.asyncProperty(venue, fc.array(update, { minLength: 1, maxLength: 12 }), check), {
    numRuns: 12,
  });
}, 60_000);

test("before the first stored snapshot there is no book", async () => {
  const inst = registry.bySymbol("SOL-USD")!;
  const q = { exchange: Exchange.Coinbase, instrumentId: inst.id, ...inst, depth: 10, strict: false };
  expect(await rebuildBook(db.sql, { ...q, atNs: 1n })).toBeNull();
});
