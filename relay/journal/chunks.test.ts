// The journal's pending and in-flight frames live in fixed chunks of 32768 frames: appends that cross a chunk's
// end, and reads of pending, in-flight and written frames across chunk ends, give back every frame at its own
// position; so do the files after a reopen.
import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createLogger } from "../../lib/log.ts";
import { decodeFrame, FRAME_SIZE } from "../../schema/frame.ts";
import { frames, journalOptions, tempDir, waitFor } from "../testing.ts";
import { Journal } from "./journal.ts";
import { newSeqState } from "./record.ts";

const quiet = createLogger({}, () => {});
const CHUNK_FRAMES = 1 << 15;

const options = (dir: string) => journalOptions(dir);

function readIds(j: Journal, from: number, to: number): number[] {
  const ids: number[] = [];
  const buf = new Uint8Array(5000 * FRAME_SIZE);
  const view = new DataView(buf.buffer);
  for (let pos = from; pos < to; ) {
    const n = j.read(pos, buf, Math.min(5000, to - pos));
    if (n === 0) throw new Error(`nothing at position ${pos} (head ${j.head})`);
    for (let i = 0; i < n; i++) ids.push(decodeFrame(view, i * FRAME_SIZE).id);
    pos += n;
  }
  return ids;
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

test("appends and reads across chunk ends: pending, in flight, written, reopened", async () => {
  const dir = tempDir("tapewire-journal-chunks-");
  try {
    const j = new Journal(options(dir), newSeqState(), quiet); // not started: flushes only when asked
    // Appends of 1000 frames (not a divisor of a chunk): some straddle a chunk's end.
    let id = 0;
    const appendUpTo = (end: number) => {
      while (id < end) {
        const n = Math.min(1000, end - id);
        const part = frames(range(id, id + n).map((k) => ({ id: k, seq: k })));
        j.append(part, 0, n * FRAME_SIZE);
        id += n;
      }
    };
    const first = 2 * CHUNK_FRAMES + 12_345;
    appendUpTo(first);
    expect(j.head).toBe(first);
    expect(readIds(j, 0, first)).toEqual(range(0, first)); // all pending, three chunks
    expect(readIds(j, CHUNK_FRAMES - 10, CHUNK_FRAMES + 10)).toEqual(
      range(CHUNK_FRAMES - 10, CHUNK_FRAMES + 10),
    );
    j.flush(); // on the thread pool: in flight now
    const second = first + CHUNK_FRAMES + 777;
    appendUpTo(second); // pending again, while the first chunks are in flight
    expect(readIds(j, 0, second)).toEqual(range(0, second));
    // More than a chunk came in meanwhile: the commit starts the next write itself (or this flush does).
    await waitFor(() => j.committed >= first, "first flush committed", 30_000);
    j.flush();
    await waitFor(() => j.committed === second, "second flush committed", 30_000);
    // The pool's chunks are reused: a third round overwrites them, the written frames stay right.
    const third = second + 2 * CHUNK_FRAMES;
    appendUpTo(third);
    expect(readIds(j, 0, third)).toEqual(range(0, third));
    j.close(); // writes the pending frames on this thread
    const again = new Journal(options(dir), newSeqState(), quiet);
    expect(again.head).toBe(third);
    expect(readIds(again, 0, third)).toEqual(range(0, third));
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
