// Large flushes are written O_DIRECT in whole 4 KiB blocks: the last block is padded with whatever the reused
// chunk held, i.e. older frames of this journal, and a flush begins by rewriting the block it shares with the
// last one. A crash leaves that padding (stale frames) past the committed end, as a recycled segment would hold
// old bytes: recovery, the relay's reads and the read-only reader must give exactly the committed frames, once,
// in order, and frames appended after the restart must go on from the committed end.
import { expect, test } from "bun:test";
import { closeSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../lib/log.ts";
import { decodeFrame, FRAME_SIZE } from "../../schema/frame.ts";
import { frames, journalOptions, tempDir, waitFor } from "../testing.ts";
import { Journal } from "./journal.ts";
import { JournalReader } from "./reader.ts";
import { newSeqState, segmentName } from "./record.ts";

const quiet = createLogger({}, () => {});
const CHUNK_FRAMES = 1 << 15;

const options = (dir: string) => journalOptions(dir);

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function appendIds(j: Journal, from: number, to: number): void {
  for (let id = from; id < to; ) {
    const n = Math.min(4096, to - id);
    j.append(frames(range(id, id + n).map((k) => ({ id: k, seq: k }))), 0, n * FRAME_SIZE);
    id += n;
  }
}

function readIds(j: Journal, to: number): number[] {
  const ids: number[] = [];
  const buf = new Uint8Array(5000 * FRAME_SIZE);
  const view = new DataView(buf.buffer);
  for (let pos = 0; pos < to; ) {
    const n = j.read(pos, buf, Math.min(5000, to - pos));
    if (n === 0) throw new Error(`nothing at position ${pos} (head ${j.head})`);
    for (let i = 0; i < n; i++) ids.push(decodeFrame(view, i * FRAME_SIZE).id);
    pos += n;
  }
  return ids;
}

function readerIds(dir: string): number[] {
  const ids: number[] = [];
  for (const chunk of new JournalReader(dir).frames({}, new Uint8Array(7000 * FRAME_SIZE))) {
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let off = 0; off < chunk.byteLength; off += FRAME_SIZE) ids.push(decodeFrame(view, off).id);
  }
  return ids;
}

async function flushed(j: Journal, to: number): Promise<void> {
  j.flush();
  await waitFor(() => j.committed === to, `committed to ${to}`, 30_000);
}

test("a crash with padded direct writes and old frames past the end: only the committed frames come back", async () => {
  const dir = tempDir("tapewire-journal-direct-");
  const file = join(dir, segmentName(0));
  try {
    const j = new Journal(options(dir), newSeqState(), quiet); // not started: flushes only when asked
    // Three whole chunks (aligned, no padding); they go back to the pool holding ids 0..98303.
    let end = 3 * CHUNK_FRAMES;
    appendIds(j, 0, end);
    await flushed(j, end);
    // 2000 frames (96,000 bytes): direct, padded to 98,304 with a reused chunk's old frames.
    appendIds(j, end, end + 2000);
    end += 2000;
    await flushed(j, end);
    // A small flush (on the event loop, buffered) into the shared block, then a large one rewriting it.
    appendIds(j, end, end + 1000);
    end += 1000;
    await flushed(j, end);
    appendIds(j, end, end + 3001);
    end += 3001;
    await flushed(j, end);
    const direct = j.stats.directFlushes;
    // Where the file system takes O_DIRECT (ext4, xfs, tmpfs on Linux >= 6.6) the padding is on disk now.
    if (direct > 0) expect(statSync(file).size).toBeGreaterThan(end * FRAME_SIZE);
    expect(readIds(j, end)).toEqual(range(0, end));
    // And more old frames past the end, as a recycled segment would hold: ids 0..999 again.
    const fd = openSync(file, "r+");
    writeSync(
      fd,
      frames(range(0, 1000).map((k) => ({ id: k, seq: k }))),
      0,
      1000 * FRAME_SIZE,
      statSync(file).size,
    );
    closeSync(fd);
    // The read-only reader (a running relay's directory) stops at the last commit.
    expect(readerIds(dir)).toEqual(range(0, end));
    // Crash: no close(). Recovery cuts everything past the last commit record.
    const again = new Journal(options(dir), newSeqState(), quiet);
    expect(again.head).toBe(end);
    expect(again.stats.tornBytes).toBeGreaterThan(0);
    expect(statSync(file).size).toBe(end * FRAME_SIZE);
    expect(readIds(again, end)).toEqual(range(0, end));
    // Frames after the restart follow the committed ones (in a new segment), none of the old bytes between.
    appendIds(again, end, end + 5000);
    await flushed(again, end + 5000);
    again.close();
    const third = new Journal(options(dir), newSeqState(), quiet);
    expect(third.head).toBe(end + 5000);
    expect(readIds(third, end + 5000)).toEqual(range(0, end + 5000));
    third.close();
    expect(readerIds(dir)).toEqual(range(0, end + 5000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test("a segment closed after a padded direct write is exactly its frames; the next starts at offset 0", async () => {
  const dir = tempDir("tapewire-journal-direct-");
  try {
    const opts = { ...options(dir), segmentBytes: 100_000 * FRAME_SIZE };
    const j = new Journal(opts, newSeqState(), quiet);
    const first = 100_003; // 4,800,144 bytes: not a whole number of 4 KiB blocks
    appendIds(j, 0, first);
    j.flush();
    // Appended while the full segment's flush is in flight: the next segment's first frames.
    appendIds(j, first, first + 2000);
    await waitFor(() => j.committed >= first && j.segments.length === 2, "rotated", 30_000);
    await flushed(j, first + 2000);
    expect(j.segments.map((s) => s.startPos)).toEqual([0, first]);
    await waitFor(() => statSync(join(dir, segmentName(0))).size === first * FRAME_SIZE, "padding cut", 5000);
    expect(readIds(j, first + 2000)).toEqual(range(0, first + 2000));
    j.close();
    expect(statSync(join(dir, segmentName(first))).size).toBe(2000 * FRAME_SIZE);
    const again = new Journal(opts, newSeqState(), quiet);
    expect(again.head).toBe(first + 2000);
    expect(readIds(again, first + 2000)).toEqual(range(0, first + 2000));
    again.close();
    expect(readerIds(dir)).toEqual(range(0, first + 2000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test("with direct writes off (TAPEWIRE_JOURNAL_DIRECT=false) a large flush goes through the page cache, unpadded", async () => {
  const dir = tempDir("tapewire-journal-direct-");
  try {
    const j = new Journal({ ...options(dir), direct: false }, newSeqState(), quiet);
    appendIds(j, 0, 2000); // 96,000 bytes: the thread-pool path
    await flushed(j, 2000);
    expect(j.stats.directFlushes).toBe(0);
    expect(statSync(join(dir, segmentName(0))).size).toBe(2000 * FRAME_SIZE);
    expect(readIds(j, 2000)).toEqual(range(0, 2000));
    j.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
