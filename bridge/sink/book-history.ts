// The book of one instrument on one exchange at a given receive time, rebuilt from book_changes: the last
// snapshot start (flag BEGIN) at or before that time, then every change after it up to that time, applied by
// the bridge's own BookState (the same grouping by update END and the same Kraken depth cut), so the rebuilt
// book is the book the bridge held at that moment. The API mounts it (api/market/book-history.ts).
import type postgres from "postgres";
import { bookChanges as t } from "../../schema/db/market.ts";
import { formatFixed, parseFixed } from "../../schema/decimal.ts";
import { type Exchange, encodeFrame, FLAG_BEGIN, FRAME_SIZE, Kind } from "../../schema/frame.ts";
import type { BookLevel } from "../../schema/messages.ts";
import { BookState } from "../book.ts";

export interface BookHistoryQuery {
  readonly exchange: Exchange;
  readonly instrumentId: number;
  readonly priceDecimals: number;
  readonly sizeDecimals: number;
  /** Receive time, ns since the epoch: changes received at or before it are applied. */
  readonly atNs: bigint;
  /** Levels per side (the bridge's BRIDGE_BOOK_DEPTH, or KRAKEN_BOOK_DEPTH for Kraken). */
  readonly depth: number;
  /** Cut to `depth` after every update (Kraken: levels pushed out get no delete). */
  readonly strict: boolean;
  /** Refuse to apply more changes than this (a snapshot long ago): bounded memory and time. */
  readonly maxChanges?: number;
}

export interface RebuiltBook {
  readonly bids: BookLevel[];
  readonly asks: BookLevel[];
  /** Receive time (ns text) of the snapshot the book starts from. */
  readonly snapshotRecvNs: string;
  /** Changes applied, the snapshot's levels included. */
  readonly changes: number;
  /** The last applied update: collector seq, exchange update id, receive time. */
  readonly seq: number;
  readonly updateId: string;
  readonly recvNs: string;
}

export class BookHistoryError extends Error {
  override readonly name = "BookHistoryError";
}

const T = `"book_changes"`;
// ORDER BY names the table's columns (${T}.x): a bare name would sort by the ::text output alias of the same
// name, and "10" sorts before "8".
const col = (c: { name: string }) => `"${c.name}"`;

/** Rebuild the book at `atNs`; null when no whole snapshot of it was stored at or before that time. */
export async function rebuildBook(sql: postgres.Sql, q: BookHistoryQuery): Promise<RebuiltBook | null> {
  // A snapshot whose END came after `atNs` was not applied yet at that moment: start from the one before it.
  let before: { recvNs: string; seq: string } | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const snapshot = await lastSnapshot(sql, q, before);
    if (!snapshot) return null;
    const book = await replayFrom(sql, q, snapshot);
    if (book) return book;
    before = snapshot;
  }
  return null;
}

const key = `${col(t.exchange)} = $1 AND ${col(t.instrumentId)} = $2`;

async function lastSnapshot(
  sql: postgres.Sql,
  q: BookHistoryQuery,
  before?: { recvNs: string; seq: string },
): Promise<{ recvNs: string; seq: string } | undefined> {
  // The predicate matches the partial index book_changes_snapshots, so this is one index step back.
  const earlier = before ? `AND (${col(t.recvNs)}, ${col(t.seq)}) < ($4::bigint, $5::bigint)` : "";
  const [row] = await sql.unsafe<{ recv_ns: string; seq: string }[]>(
    `SELECT ${col(t.recvNs)}::text AS recv_ns, ${col(t.seq)}::text AS seq FROM ${T}
     WHERE ${key} AND ${col(t.recvNs)} <= $3::bigint AND (flags & ${FLAG_BEGIN}) <> 0 ${earlier}
     ORDER BY ${T}.${col(t.recvNs)} DESC, ${T}.${col(t.seq)} DESC LIMIT 1`,
    before
      ? [q.exchange, q.instrumentId, q.atNs.toString(), before.recvNs, before.seq]
      : [q.exchange, q.instrumentId, q.atNs.toString()],
  );
  return row && { recvNs: row.recv_ns, seq: row.seq };
}

/** Apply the changes from the snapshot to `atNs`; null when the snapshot itself was not complete by then. */
async function replayFrom(
  sql: postgres.Sql,
  q: BookHistoryQuery,
  snapshot: { recvNs: string; seq: string },
): Promise<RebuiltBook | null> {
  const limit = q.maxChanges ?? 1_000_000;
  const rows = await sql.unsafe<
    { flags: number; price: string; size: string; update_id: string; seq: string; recv_ns: string }[]
  >(
    `SELECT ${col(t.flags)} AS flags, ${col(t.price)}::text AS price, ${col(t.size)}::text AS size,
            ${col(t.updateId)}::text AS update_id, ${col(t.seq)}::text AS seq, ${col(t.recvNs)}::text AS recv_ns
     FROM ${T}
     WHERE ${key} AND (${col(t.recvNs)}, ${col(t.seq)}) >= ($3::bigint, $4::bigint) AND ${col(t.recvNs)} <= $5::bigint
     ORDER BY ${T}.${col(t.recvNs)}, ${T}.${col(t.seq)} LIMIT ${limit + 1}`,
    [q.exchange, q.instrumentId, snapshot.recvNs, snapshot.seq, q.atNs.toString()],
  );
  if (rows.length > limit) {
    throw new BookHistoryError(
      `more than ${limit} book changes since the last snapshot: ask for a time closer to one`,
    );
  }
  const book = new BookState(q.depth, q.strict);
  const frame = new DataView(new ArrayBuffer(FRAME_SIZE));
  let applied: (typeof rows)[number] | undefined;
  for (const r of rows) {
    const price = parseFixed(r.price, q.priceDecimals);
    const size = parseFixed(r.size, q.sizeDecimals);
    if (Number.isNaN(price) || Number.isNaN(size)) {
      throw new BookHistoryError(
        `stored level ${r.price} x ${r.size} does not fit the instrument's decimals`,
      );
    }
    encodeFrame(frame, 0, {
      kind: Kind.BookLevel,
      flags: r.flags,
      exchange: q.exchange,
      instrument: q.instrumentId,
      seq: Number(r.seq),
      id: 0,
      price,
      size,
      tsExchange: 0,
      tsRecv: 0,
    });
    if (book.add(frame, 0)) {
      book.applyGroup();
      book.clearGroup();
      applied = r;
    }
  }
  const side = (ask: boolean): BookLevel[] => {
    const flat = book.levels(ask);
    const out: BookLevel[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      out.push([formatFixed(flat[i]!, q.priceDecimals), formatFixed(flat[i + 1]!, q.sizeDecimals)]);
    }
    return out;
  };
  if (!applied) return null;
  return {
    bids: side(false),
    asks: side(true),
    snapshotRecvNs: snapshot.recvNs,
    changes: rows.length,
    seq: Number(applied.seq),
    updateId: applied.update_id,
    recvNs: applied.recv_ns,
  };
}
