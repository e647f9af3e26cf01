// Ingest without sockets: every split point of a byte stream gives the same batch contents.
import { expect, test } from "bun:test";
import { createLogger } from "../lib/log.ts";
import { decodeFrame, FrameError, isValidHead, Kind, Status, validateHead } from "../schema/frame.ts";
import { Ingest, IngestConnection } from "./ingest.ts";
import { RelayMetrics } from "./metrics.ts";
import { frames } from "./testing.ts";

const quiet = createLogger({}, () => {});

function run(stream: Uint8Array, cuts: number[]): string[] {
  const ingest = new Ingest(new RelayMetrics(() => []), quiet, 64);
  const conn = new IngestConnection(1);
  const out: string[] = [];
  let pos = 0;
  for (const cut of [...cuts, stream.length]) {
    const batch = ingest.read(conn, stream.slice(pos, cut));
    const view = new DataView(batch.src.buffer, batch.src.byteOffset + batch.srcStart, batch.length);
    for (let off = 0; off < batch.length; off += 48) {
      const f = decodeFrame(view, off);
      out.push(f.kind === Kind.Status ? `s${f.flags >> 4}:${f.id}:${f.price}` : `${f.seq}:${f.id}`);
    }
    pos = cut;
  }
  for (let off = 0; off < ingest.closed(conn).length; off += 48) out.push("closed");
  return out;
}

test("the same frames, gaps and invalid drops at every split of the stream, in one or two cuts", () => {
  const stream = frames([
    { seq: 0, kind: Kind.Status, flags: Status.CollectorStart << 4 },
    { seq: 1, id: 11 },
    { seq: 2, id: 12 },
    { seq: 5, id: 15 },
    { seq: 6, id: 16 },
    { seq: 7, id: 17 },
  ]);
  stream[4 * 48 + 1] = 0x01; // frame with seq 6: version 0 → invalid
  // seq is the journal seq the relay assigns (contiguous, gap frames included); id keeps the collector's numbering.
  const expected = ["s0:0:0", "1:11", "2:12", "s9:3:2", "4:15", "s9:6:1", "6:17", "closed"];
  expect(run(stream, [])).toEqual(expected);
  for (let a = 0; a <= stream.length; a++) {
    expect(run(stream, [a])).toEqual(expected);
    for (let b = a; b <= stream.length; b += 7) expect(run(stream, [a, b])).toEqual(expected);
  }
  // CPU-bound (thousands of splits), on a machine shared with other test runs.
}, 30_000);

test("isValidHead agrees with validateHead on every first-two-byte combination", () => {
  const bytes = new Uint8Array(48);
  const view = new DataView(bytes.buffer);
  let disagreements = 0;
  for (let b0 = 0; b0 < 256; b0++) {
    for (let b1 = 0; b1 < 256; b1++) {
      bytes[0] = b0;
      bytes[1] = b1;
      if (isValidHead(b0, b1) !== (validateHead(view, 0) === FrameError.None)) disagreements++;
    }
  }
  expect(disagreements).toBe(0);
});
