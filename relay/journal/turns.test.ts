// At max rate one turn of the relay's event loop takes milliseconds (collector reads, fan-out). The journal's
// writes must not need one turn per chunk, nor a chain of turns per rotation, or it falls behind the fan-out
// (issue 14: with chained writes ~55% of a 6 M-frame run was committed when the last frame was fanned out).
// Here every turn is made slow (a 20 ms block) and the turns until a commit are counted.
import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createLogger } from "../../lib/log.ts";
import { decodeFrame, FRAME_SIZE } from "../../schema/frame.ts";
import { frames, journalOptions, tempDir, waitFor } from "../testing.ts";
import { Journal } from "./journal.ts";
import { newSeqState } from "./record.ts";

const quiet = createLogger({}, () => {});
const CHUNK_FRAMES = 1 << 15;

// The first flush fills the first segment exactly.
const options = (dir: string) =>
  journalOptions(dir, { segmentBytes: 16 * CHUNK_FRAMES * FRAME_SIZE, fsyncMs: 60_000 });

/** Busy turns (each blocked 20 ms, as a relay at max rate) until everything appended is committed. */
async function turnsUntilCommitted(j: Journal): Promise<number> {
  let turns = 0;
  while (j.committed < j.head && turns < 100) {
    Bun.sleepSync(20);
    await Bun.sleep(0);
    j.flush(); // what the flush timer does (the journal is not started here)
    turns++;
  }
  return turns;
}

function appendIds(j: Journal, from: number, to: number): void {
  for (let id = from; id < to; ) {
    const n = Math.min(4096, to - id);
    const part = frames(Array.from({ length: n }, (_, i) => ({ id: id + i, seq: id + i })));
    j.append(part, 0, n * FRAME_SIZE);
    id += n;
  }
}

function readIds(j: Journal, to: number): number[] {
  const ids: number[] = [];
  const buf = new Uint8Array(8192 * FRAME_SIZE);
  const view = new DataView(buf.buffer);
  for (let pos = 0; pos < to; ) {
    const n = j.read(pos, buf, Math.min(8192, to - pos));
    if (n === 0) throw new Error(`nothing at position ${pos} (head ${j.head})`);
    for (let i = 0; i < n; i++) ids.push(decodeFrame(view, i * FRAME_SIZE).id);
    pos += n;
  }
  return ids;
}

test("a flush of 16 chunks takes a few turns of a busy event loop, not one per chunk", async () => {
  const dir = tempDir("tapewire-journal-turns-");
  try {
    const j = new Journal(options(dir), newSeqState(), quiet); // not started: flushes only when asked
    const first = 16 * CHUNK_FRAMES;
    appendIds(j, 0, first);
    j.flush();
    // All 16 chunk writes complete during one blocked turn; the commit record takes one more (chained: 12-17).
    expect(await turnsUntilCommitted(j)).toBeLessThanOrEqual(3);
    expect(j.committed).toBe(first);
    expect(readIds(j, first)).toEqual(Array.from({ length: first }, (_, i) => i));
    j.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test("a rotation takes one turn of a busy event loop before the next flush, then frames read back", async () => {
  const dir = tempDir("tapewire-journal-turns-");
  try {
    const j = new Journal(options(dir), newSeqState(), quiet);
    const first = 16 * CHUNK_FRAMES;
    appendIds(j, 0, first);
    j.flush();
    await waitFor(() => j.committed === first, "first flush committed", 30_000);
    // The segment is full: its two fsyncs in one turn, then the next flush (chained: 6 turns, then the flush).
    const second = first + CHUNK_FRAMES + 5;
    appendIds(j, first, second);
    expect(await turnsUntilCommitted(j)).toBeLessThanOrEqual(4);
    expect(j.committed).toBe(second);
    expect(j.segments.map((s) => s.startPos)).toEqual([0, first]);
    const want = Array.from({ length: second }, (_, i) => i);
    expect(readIds(j, second)).toEqual(want);
    j.close();
    const again = new Journal(options(dir), newSeqState(), quiet);
    expect(again.head).toBe(second);
    expect(readIds(again, second)).toEqual(want);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
