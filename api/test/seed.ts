// Market rows as the bridge writes them, for tests and the benchmark.
import type postgres from "postgres";

export interface SeedTrade {
  time: string | Date;
  exchange: number;
  instrumentId: number;
  tradeId: number | bigint;
  price: string;
  size: string;
  side?: "buy" | "sell" | "unknown";
}

export async function insertTrades(sql: postgres.Sql, trades: SeedTrade[]): Promise<void> {
  for (let i = 0; i < trades.length; i += 5000) {
    const rows = trades.slice(i, i + 5000).map((t, k) => ({
      time: typeof t.time === "string" ? t.time : t.time.toISOString(),
      exchange: t.exchange,
      instrument_id: t.instrumentId,
      trade_id: String(t.tradeId),
      price: t.price,
      size: t.size,
      side: t.side ?? "buy",
      seq: i + k,
      recv_ns: "0",
    }));
    await sql`INSERT INTO trades ${sql(rows)}`;
  }
}

export async function insertTop(
  sql: postgres.Sql,
  top: {
    exchange: number;
    instrumentId: number;
    bid: string | null;
    ask: string | null;
    time?: string;
    bidSize?: string;
    askSize?: string;
  },
): Promise<void> {
  await sql`INSERT INTO book_tops (time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size)
    VALUES (${top.time ?? new Date().toISOString()}, ${top.exchange}, ${top.instrumentId}, ${top.bid}, ${top.bid === null ? null : (top.bidSize ?? "1")},
      ${top.ask}, ${top.ask === null ? null : (top.askSize ?? "1")})`;
}

export async function insertFeedEvent(
  sql: postgres.Sql,
  e: {
    time: string;
    exchange: number;
    instrumentId?: number;
    event: string;
    detail?: number;
    count?: number;
    seq: number;
  },
): Promise<void> {
  await sql`INSERT INTO feed_events (time, exchange, instrument_id, event, detail, count, seq)
    VALUES (${e.time}, ${e.exchange}, ${e.instrumentId ?? 0}, ${e.event}, ${e.detail ?? 0}, ${e.count ?? 0}, ${e.seq})`;
}
