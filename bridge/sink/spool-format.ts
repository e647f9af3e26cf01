// How a batch is laid out in a spool segment: its parts (one table's COPY text each, with a byte count so the
// data needs no escaping), its relay positions, and an end marker. A segment is a run of these; whatever
// follows the last end marker is a torn append (a crash mid-write) and is cut off at start-up. Replaying a
// segment merges its batches into one, committed in one transaction with the last positions it holds.
import { isTableName } from "./tables.ts";
import type { Batch, RelayPosition, TableRows } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NL = 10;

export function encodeBatch(batch: Batch): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const p of batch.parts) {
    chunks.push(encoder.encode(`@rows ${p.table} ${p.rows} ${p.data.byteLength}\n`), p.data);
  }
  const tail = batch.positions.map((p) => `@pos ${p.exchange} ${p.seq} ${p.recvNs}\n`).join("");
  chunks.push(encoder.encode(`${tail}@end\n`));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export interface DecodedSegment {
  readonly batches: Batch[];
  /** Bytes up to the end of the last whole batch: the rest is torn (or damaged) and is not replayed. */
  readonly whole: number;
  /** Set when something other than a torn tail was found (a damaged file): what and where. */
  readonly damage?: string;
}

const ROWS = /^@rows (\w+) (\d+) (\d+)$/;
const POS = /^@pos (\d+) (\d+) (-?\d+)$/;

export function decodeSegment(data: Uint8Array): DecodedSegment {
  const batches: Batch[] = [];
  let whole = 0;
  let at = 0;
  let parts: TableRows[] = [];
  let positions: RelayPosition[] = [];
  while (at < data.byteLength) {
    const nl = data.indexOf(NL, at);
    if (nl === -1) break; // a torn header
    const line = decoder.decode(data.subarray(at, nl));
    at = nl + 1;
    const rows = ROWS.exec(line);
    const pos = rows ? null : POS.exec(line);
    const table = rows?.[1] ?? "";
    if (rows && isTableName(table)) {
      const bytes = Number(rows[3]);
      if (at + bytes > data.byteLength) break; // torn data
      parts.push({ table, rows: Number(rows[2]), data: data.slice(at, at + bytes) });
      at += bytes;
    } else if (pos) {
      positions.push({ exchange: Number(pos[1]), seq: Number(pos[2]), recvNs: BigInt(pos[3]!) });
    } else if (line === "@end") {
      batches.push({ parts, positions });
      parts = [];
      positions = [];
      whole = at;
    } else {
      return { batches, whole, damage: `unreadable line at byte ${nl - line.length}: ${line.slice(0, 60)}` };
    }
  }
  return { batches, whole };
}

/** Several batches as one: each table's rows concatenated in order, each exchange's last position. */
export function mergeBatches(batches: readonly Batch[]): Batch {
  const byTable = new Map<TableRows["table"], TableRows[]>();
  const positions = new Map<number, RelayPosition>();
  for (const b of batches) {
    for (const p of b.parts) byTable.set(p.table, [...(byTable.get(p.table) ?? []), p]);
    for (const p of b.positions) positions.set(p.exchange, p);
  }
  const parts = [...byTable].map(([table, list]): TableRows => {
    if (list.length === 1) return list[0]!;
    const data = new Uint8Array(list.reduce((n, p) => n + p.data.byteLength, 0));
    let at = 0;
    for (const p of list) {
      data.set(p.data, at);
      at += p.data.byteLength;
    }
    return { table, rows: list.reduce((n, p) => n + p.rows, 0), data };
  });
  return { parts, positions: [...positions.values()] };
}
