// The journal drops its synced frames from the page cache behind each fsync, all but the newest cacheKeepBytes
// (relay/journal/journal.ts dropSynced): the pages a segment's file holds in memory are checked with mincore(2),
// and every position still reads back the frame appended there (from the disk), before and after a reopen.

import { dlopen, FFIType } from "bun:ffi";
import { expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { closeSync, openSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../lib/log.ts";
import { decodeFrame, FRAME_SIZE } from "../../schema/frame.ts";
import { frames, tempDir, waitFor } from "../testing.ts";
import { Journal, type JournalOptions } from "./journal.ts";
import { newSeqState, segmentName } from "./record.ts";

const quiet = createLogger({}, () => {});
const PAGE = 4096;
const KEEP = 256 * 1024;

const libc =
  process.platform === "linux"
    ? dlopen("libc.so.6", {
        mmap: {
          args: [FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64],
          returns: FFIType.ptr,
        },
        munmap: { args: [FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
        mincore: { args: [FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
      })
    : null;

/** Per page of the file, whether it is in the page cache (mincore on a read-only shared mapping). */
function residentPages(path: string): Uint8Array {
  const size = statSync(path).size;
  const fd = openSync(path, "r");
  try {
    const addr = libc!.symbols.mmap(null, size, 1 /* PROT_READ */, 1 /* MAP_SHARED */, fd, 0);
    if (addr === null || Number(addr) === -1) throw new Error("mmap failed");
    const vec = new Uint8Array(Math.ceil(size / PAGE));
    try {
      if (libc!.symbols.mincore(addr, size, vec) !== 0) throw new Error("mincore failed");
    } finally {
      libc!.symbols.munmap(addr, size);
    }
    return vec.map((v) => v & 1);
  } finally {
    closeSync(fd);
  }
}

// tmpfs has no disk to drop its pages to (fadvise does nothing there).
const dir = tempDir("tapewire-journal-cache-");
const fsType =
  process.platform === "linux" ? execFileSync("stat", ["-f", "-c", "%T", dir]).toString().trim() : "";
rmSync(dir, { recursive: true, force: true });
const canCheck = libc !== null && fsType !== "tmpfs";
if (!canCheck)
  console.warn(`SKIPPING the journal page-cache test (platform ${process.platform}, fs ${fsType})`);

function options(d: string): JournalOptions {
  return {
    dir: d,
    segmentBytes: 64 << 20, // one segment
    segmentMs: 3_600_000,
    fsyncMs: 5,
    flushMs: 1,
    retentionMs: 86_400_000,
    retentionBytes: 1 << 30,
    requireArchive: true,
    cacheKeepBytes: KEEP,
  };
}

test.skipIf(!canCheck)(
  "synced frames past the newest cacheKeepBytes leave the page cache; reads are unchanged",
  async () => {
    const d = tempDir("tapewire-journal-cache-");
    try {
      const j = new Journal(options(d), newSeqState(), quiet);
      j.start();
      const total = 40_000; // 1.9 MB
      for (let id = 0; id < total; id += 1000) {
        j.append(
          frames(Array.from({ length: 1000 }, (_, i) => ({ id: id + i, seq: id + i }))),
          0,
          1000 * FRAME_SIZE,
        );
        await Bun.sleep(2);
      }
      await waitFor(() => j.committed === j.head, "everything committed", 30_000);
      // Fsyncs after the last big write (one per commit, at most every 5 ms): their drops cover all but KEEP.
      const fsyncs = j.stats.fsyncs;
      for (let k = 0; k < 3; k++) {
        await Bun.sleep(10);
        j.append(frames([{ id: total + k, seq: total + k }]), 0, FRAME_SIZE);
      }
      await waitFor(() => j.committed === j.head && j.stats.fsyncs >= fsyncs + 2, "two more fsyncs", 10_000);
      await Bun.sleep(20); // the last fsync's drop ran in its callback, before the count; let any in flight land
      const bytes = (total + 3) * FRAME_SIZE;
      const pages = residentPages(join(d, segmentName(0)));
      // The kernel keeps a large folio (64 KiB here) that straddles a drop's end: 32 pages of slack.
      const droppable = Math.floor((bytes - KEEP) / PAGE) - 32;
      // Before: every page written stayed cached (the kernel had no reason to evict 2 MB).
      expect(pages.subarray(0, droppable).reduce((a, b) => a + b, 0)).toBe(0);
      expect(pages.subarray(Math.ceil(bytes / PAGE) - 8).reduce((a, b) => a + b, 0)).toBe(8); // the newest stay
      expect(j.stats.cacheDroppedBytes).toBeGreaterThanOrEqual(droppable * PAGE);
      const want = Array.from({ length: total + 3 }, (_, i) => i);
      const readAll = (jj: Journal) => {
        const ids: number[] = [];
        const buf = new Uint8Array(512 * FRAME_SIZE);
        const view = new DataView(buf.buffer);
        for (let pos = jj.oldestPos; pos < jj.head; ) {
          const n = jj.read(pos, buf, 512);
          if (n === 0) throw new Error(`nothing at ${pos}`);
          for (let i = 0; i < n; i++) ids.push(decodeFrame(view, i * FRAME_SIZE).id);
          pos += n;
        }
        return ids;
      };
      expect(readAll(j)).toEqual(want);
      j.close();
      const again = new Journal(options(d), newSeqState(), quiet);
      expect(again.head).toBe(total + 3);
      expect(readAll(again)).toEqual(want);
      again.close();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  },
);
