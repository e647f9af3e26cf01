// Retention never deletes a segment the archiver has not marked, nor anything newer than it.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { archivedMarker, newSeqState } from "./record.ts";
import { retentionVictims, type Segment } from "./segments.ts";

const segment = (startPos: number, committedAt: number): Segment => {
  const record = { endPos: startPos + 100, maxTsRecv: 0, committedAt, state: newSeqState() };
  return {
    startPos,
    endPos: startPos + 100,
    bytes: 4800,
    createdAt: 0,
    first: record,
    lastRecord: record,
    readFd: null,
  };
};

test("old segments go oldest first, only once archived; the current one never", () => {
  const dir = mkdtempSync(join(tmpdir(), "tw-retention-"));
  try {
    const segs = [segment(0, 0), segment(100, 0), segment(200, 0), segment(300, 0)];
    const rules = { dir, retentionMs: 1000, retentionBytes: 1 << 30, requireArchive: true };
    // Nothing archived: three are past the age bound, none may go.
    expect(retentionVictims(rules, segs, segs[3]!, 10_000)).toEqual({ victims: [], waiting: 3 });
    // The second is archived but the first is not: still nothing (no holes).
    writeFileSync(join(dir, archivedMarker(100)), "");
    expect(retentionVictims(rules, segs, segs[3]!, 10_000).victims).toEqual([]);
    writeFileSync(join(dir, archivedMarker(0)), "");
    expect(retentionVictims(rules, segs, segs[3]!, 10_000).victims.map((s) => s.startPos)).toEqual([0, 100]);
    // Without the archive rule the age bound alone decides; the current segment stays.
    const free = { ...rules, requireArchive: false };
    expect(retentionVictims(free, segs, segs[3]!, 10_000).victims.map((s) => s.startPos)).toEqual([
      0, 100, 200,
    ]);
    // Young segments stay unless the size bound is exceeded.
    expect(retentionVictims(free, segs, segs[3]!, 500).victims).toEqual([]);
    const small = { ...free, retentionBytes: 2 * 4800 };
    expect(retentionVictims(small, segs, segs[3]!, 500).victims.map((s) => s.startPos)).toEqual([0, 100]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
