// The journal rotating segments while frames keep arriving during its thread-pool writes: every position reads
// back the frame appended there (before the fix a new segment started at the head, not at the committed
// position, so the frames pending at a rotation were filed under the wrong positions), and reopening the
// directory (recovery) gives the same frames.
import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createLogger } from "../../lib/log.ts";
import { decodeFrame, FRAME_SIZE } from "../../schema/frame.ts";
import { frames, journalOptions, tempDir, waitFor } from "../testing.ts";
import { Journal } from "./journal.ts";
import { newSeqState } from "./record.ts";

const quiet = createLogger({}, () => {});

const options = (dir: string) => journalOptions(dir, { segmentBytes: 4096 }); // 85 frames: many rotations

function readAll(j: Journal): number[] {
  const ids: number[] = [];
  const buf = new Uint8Array(64 * FRAME_SIZE);
  const view = new DataView(buf.buffer);
  for (let pos = j.oldestPos; pos < j.head; ) {
    const n = j.read(pos, buf, 64);
    if (n === 0) throw new Error(`nothing at position ${pos} (head ${j.head})`);
    for (let i = 0; i < n; i++) ids.push(decodeFrame(view, i * FRAME_SIZE).id);
    pos += n;
  }
  return ids;
}

test("frames appended while a write is in flight land at their own positions across rotations", async () => {
  const dir = tempDir("tapewire-journal-rot-");
  try {
    const j = new Journal(options(dir), newSeqState(), quiet);
    j.start();
    const total = 3000;
    let id = 0;
    // Small appends on every turn, so most flushes (and so most rotations) find new frames pending.
    while (id < total) {
      const n = Math.min(7, total - id);
      j.append(frames(Array.from({ length: n }, (_, i) => ({ id: id + i, seq: id + i }))), 0, n * FRAME_SIZE);
      id += n;
      if (id % 28 === 0) await Bun.sleep(1);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => j.committed === j.head, "everything committed", 30_000);
    expect(j.segments.length).toBeGreaterThan(3);
    const want = Array.from({ length: total }, (_, i) => i);
    expect(readAll(j)).toEqual(want);
    j.close();
    // Recovery reads the same frames back from the files.
    const again = new Journal(options(dir), newSeqState(), quiet);
    expect(again.head).toBe(total);
    expect(readAll(again)).toEqual(want);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
