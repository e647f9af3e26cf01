// The database writer's relay position (schema/db/market.ts relay_positions): written in the same transaction
// as the rows of the frames up to it, read once at start so the writer's relay consumer resumes from exactly
// what the database holds. Column names come from the Drizzle table.
import type postgres from "postgres";
import type { ResumePosition } from "../../relay/filter.ts";
import { relayPositions as t } from "../../schema/db/market.ts";
import { EXCHANGE_NAMES, type ExchangeName } from "../../schema/frame.ts";
import type { RelayPosition } from "./types.ts";

/** The relay consumer name the bridge's database writer uses (and its row key in relay_positions). */
export const DB_CONSUMER = "bridge-db";

const TABLE = `"relay_positions"`;
const C = {
  consumer: `"${t.consumer.name}"`,
  exchange: `"${t.exchange.name}"`,
  seq: `"${t.seq.name}"`,
  recvNs: `"${t.recvNs.name}"`,
  updatedAt: `"${t.updatedAt.name}"`,
};

/** Upsert the positions inside the caller's transaction: later commits overwrite earlier ones (in order). */
export async function writeRelayPositions(
  tx: postgres.TransactionSql,
  consumer: string,
  positions: readonly RelayPosition[],
): Promise<void> {
  if (positions.length === 0) return;
  const values: (string | number)[] = [];
  const tuples = positions.map((p, i) => {
    values.push(consumer, p.exchange, p.seq, p.recvNs.toString());
    const n = i * 4;
    return `($${n + 1}, $${n + 2}::smallint, $${n + 3}::bigint, $${n + 4}::bigint, now())`;
  });
  await tx.unsafe(
    `INSERT INTO ${TABLE} (${C.consumer}, ${C.exchange}, ${C.seq}, ${C.recvNs}, ${C.updatedAt}) VALUES ${tuples.join(", ")}
     ON CONFLICT (${C.consumer}, ${C.exchange}) DO UPDATE
     SET ${C.seq} = excluded.${C.seq}, ${C.recvNs} = excluded.${C.recvNs}, ${C.updatedAt} = excluded.${C.updatedAt}`,
    values,
  );
}

/** Where `consumer` got to, per exchange (empty on a fresh database: start from the oldest the relay holds). */
export async function readRelayPositions(
  sql: postgres.Sql,
  consumer = DB_CONSUMER,
): Promise<RelayPosition[]> {
  const rows = await sql.unsafe<{ exchange: number; seq: string; recv_ns: string }[]>(
    `SELECT ${C.exchange} AS exchange, ${C.seq}::text AS seq, ${C.recvNs}::text AS recv_ns
     FROM ${TABLE} WHERE ${C.consumer} = $1 ORDER BY ${C.exchange}`,
    [consumer],
  );
  return rows.map((r) => ({ exchange: Number(r.exchange), seq: Number(r.seq), recvNs: BigInt(r.recv_ns) }));
}

/**
 * The resume fields of the database consumer's relay filter line (relay/README.md "Resume"): per exchange the
 * next seq after the last committed one, and for exchanges with no position yet the time of the latest commit,
 * so an exchange that first appeared while the bridge was down is not skipped. Nothing stored: the whole journal.
 */
export function resumeFrom(positions: readonly RelayPosition[]): ResumePosition {
  // Nothing stored yet: everything the relay's journal holds (a new database is filled from it, and frames
  // the relay took before this consumer connected are not skipped).
  if (positions.length === 0) return { fromTime: "0" };
  const from: Partial<Record<ExchangeName, number>> = {};
  let latest = positions[0]!.recvNs;
  for (const p of positions) {
    const name = EXCHANGE_NAMES[p.exchange];
    if (name) from[name] = (p.seq + 1) % 4294967296; // the wire seq is a u32
    if (p.recvNs > latest) latest = p.recvNs;
  }
  return { from, fromTime: latest.toString() };
}
