// The quote a paper order fills against: the latest book top of one exchange, if it is recent enough.
import { sql } from "drizzle-orm";
import type { Database, Tx } from "../db/client.ts";

export interface Quote {
  bid: string | null;
  ask: string | null;
  time: string;
}

export async function freshQuote(
  db: Database | Tx,
  exchange: number,
  instrumentId: number,
  maxAgeMs: number,
) {
  const rows = (await db.execute(sql`SELECT bid_price::text AS bid, ask_price::text AS ask, time::text AS time
    FROM book_tops WHERE exchange = ${exchange} AND instrument_id = ${instrumentId}
      AND time > now() - ${maxAgeMs} * interval '1 millisecond'
    ORDER BY time DESC LIMIT 1`)) as unknown as Quote[];
  return rows[0] ?? null;
}
