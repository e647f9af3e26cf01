// The spool on a real file system: order, segment rotation, positions kept with their rows, a torn append
// after a crash cut at every byte, damaged files set aside, older-format files still replayed.
import { afterAll, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { Spool } from "./spool.ts";
import { decodeSegment, encodeBatch, mergeBatches } from "./spool-format.ts";
import { TABLE_NAMES } from "./tables.ts";
import type { Batch } from "./types.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), "tw-spool-unit-"));
  dirs.push(d);
  return d;
}
const trades = (s: string, rows: number, seq = 0): Batch => ({
  parts: [{ table: "trades", rows, data: bytes(s) }],
  positions: seq ? [{ exchange: 3, seq, recvNs: 1_700_000_000_000_000_000n + BigInt(seq) }] : [],
});
const asText = (b: Batch) => ({ ...b, parts: b.parts.map((p) => ({ ...p, data: text(p.data) })) });

const batchArb = fc.record({
  parts: fc.uniqueArray(
    fc.record({
      table: fc.constantFrom(...TABLE_NAMES),
      rows: fc.nat(50),
      data: fc.string({ unit: "binary-ascii" }).map(bytes),
    }),
    { selector: (p) => p.table, maxLength: 4 },
  ),
  positions: fc.uniqueArray(
    fc.record({
      exchange: fc.integer({ min: 1, max: 15 }),
      seq: fc.nat(),
      recvNs: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    }),
    { selector: (p) => p.exchange, maxLength: 3 },
  ),
});

test("the segment format round-trips any batch, and a cut at any byte keeps exactly the whole batches before it", () => {
  fc.assert(
    fc.property(fc.array(batchArb, { minLength: 1, maxLength: 4 }), (batches) => {
      const encoded = batches.map(encodeBatch);
      const all = new Uint8Array(encoded.reduce((n, e) => n + e.byteLength, 0));
      const ends: number[] = [];
      let at = 0;
      for (const e of encoded) {
        all.set(e, at);
        at += e.byteLength;
        ends.push(at);
      }
      expect(decodeSegment(all)).toEqual({ batches, whole: all.byteLength });
      for (let cut = 0; cut <= all.byteLength; cut++) {
        const complete = ends.filter((end) => end <= cut).length;
        const got = decodeSegment(all.subarray(0, cut));
        expect(got.batches).toEqual(batches.slice(0, complete));
        expect(got.whole).toBe(complete === 0 ? 0 : ends[complete - 1]!);
      }
    }),
    { numRuns: 60 },
  );
});

test("merging batches keeps every table's rows in order and each exchange's last position", () => {
  const merged = mergeBatches([trades("a\n", 1, 5), trades("b\nc\n", 2, 9), { parts: [], positions: [] }]);
  expect(asText(merged)).toEqual(asText(trades("a\nb\nc\n", 3, 9)));
});

test("batches come back in order across segment rotation and a restart, with their positions", async () => {
  const d = dir();
  const spool = new Spool(d, 64);
  await spool.init();
  const appends = [];
  for (let i = 1; i <= 10; i++) appends.push(spool.append(trades(`t${i}a\nt${i}b\n`, 2, i)));
  appends.push(
    spool.append({ parts: [{ table: "feed_events", rows: 1, data: bytes("e1\n") }], positions: [] }),
  );
  await Promise.all(appends);
  expect(spool.pendingBytes).toBe(0);
  expect(spool.files).toBeGreaterThan(2); // 64-byte segments rotate
  await spool.close();

  const again = new Spool(d, 64);
  await again.init();
  expect(again.bytes).toBe(spool.bytes);
  let trade = "";
  let events = "";
  let rows = 0;
  let lastSeq = 0;
  for (let seg = await again.oldest(); seg; seg = await again.oldest()) {
    const batch = await again.read(seg);
    for (const p of batch.parts) {
      rows += p.rows;
      if (p.table === "trades") trade += text(p.data);
      else events += text(p.data);
    }
    for (const p of batch.positions) {
      expect(p.seq).toBeGreaterThan(lastSeq); // positions replay in order
      lastSeq = p.seq;
    }
    await again.remove(seg);
  }
  expect(rows).toBe(21);
  expect(lastSeq).toBe(10);
  expect(trade).toBe(Array.from({ length: 10 }, (_, i) => `t${i + 1}a\nt${i + 1}b\n`).join(""));
  expect(events).toBe("e1\n");
  expect(again.files).toBe(0);
  expect(again.bytes).toBe(0);
  expect(readdirSync(d).filter((n) => n.endsWith(".batches"))).toEqual([]);
});

test("a torn append (a crash mid-write) is cut off at start-up; a rejected segment keeps its error", async () => {
  const d = dir();
  const spool = new Spool(d);
  await spool.init();
  await spool.append(trades("whole\n", 1, 4));
  await spool.close();
  const [name] = readdirSync(d).filter((n) => n.endsWith(".batches"));
  const good = readFileSync(join(d, name!));
  appendFileSync(join(d, name!), "@rows trades 1 9\nhalf a r");

  const again = new Spool(d);
  await again.init();
  expect(readFileSync(join(d, name!))).toEqual(good);
  const seg = (await again.oldest())!;
  expect(asText(await again.read(seg))).toEqual(asText(trades("whole\n", 1, 4)));
  await again.reject(seg, new Error("bad value"));
  expect(readFileSync(join(d, "rejected", `${name}.error.txt`), "utf8")).toBe("Error: bad value\n");
  expect(readFileSync(join(d, "rejected", name!))).toEqual(good);
  expect(await again.oldest()).toBeUndefined();
});

test("a damaged segment replays what is whole and sets the rest aside; an empty one is removed", async () => {
  const d = dir();
  const first = encodeBatch(trades("x\n", 1, 1));
  writeFileSync(
    join(d, "0000000000000001.batches"),
    Buffer.concat([first, bytes("garbage\n"), encodeBatch(trades("y\n", 1, 2))]),
  );
  writeFileSync(join(d, "0000000000000002.batches"), "");
  const spool = new Spool(d);
  await spool.init();
  expect(spool.files).toBe(1);
  expect(asText(await spool.read((await spool.oldest())!))).toEqual(asText(trades("x\n", 1, 1)));
  expect(readFileSync(join(d, "rejected", "0000000000000001.batches.damaged.error.txt"), "utf8")).toContain(
    "unreadable line",
  );
});

test("a one-table segment of the older format is still replayed (torn line cut)", async () => {
  const d = dir();
  writeFileSync(join(d, "0000000000000007-trades.copy"), "r1\nr2\nhalf");
  const spool = new Spool(d);
  await spool.init();
  const seg = (await spool.oldest())!;
  expect(asText(await spool.read(seg))).toEqual(
    asText({ parts: [{ table: "trades", rows: 2, data: bytes("r1\nr2\n") }], positions: [] }),
  );
  await spool.append(trades("new\n", 1));
  expect(readdirSync(d).filter((n) => n.endsWith(".batches"))).toEqual(["0000000000000008.batches"]);
  await spool.close();
});
