// The benches' synthetic trades, made by DuckDB (fast) as a CSV for COPY into `trades`: kraken and coinbase on
// the USD pairs, binance on USDT, evenly spaced over `days` from `startMs`.
import type { DuckDBConnection } from "@duckdb/node-api";

export async function writeSyntheticTrades(
  gen: DuckDBConnection,
  path: string,
  o: { startMs: number; days: number; trades: number },
): Promise<void> {
  const spanMs = o.days * 86_400_000;
  await gen.run(`COPY (
    SELECT make_timestamp(${o.startMs * 1000}::BIGINT + (i * ${Math.floor((spanMs * 1000) / o.trades)})::BIGINT)::VARCHAR || '+00' AS time,
      (i % 3) + 1 AS exchange, CASE WHEN i % 3 = 2 THEN 4 + (i // 3) % 3 ELSE 1 + (i // 3) % 3 END AS instrument_id,
      i AS trade_id,
      ((CASE (i // 3) % 3 WHEN 0 THEN 9000000 WHEN 1 THEN 300000 ELSE 15000 END) + (hash(i) % 5000)::BIGINT)::DECIMAL(18,0) / 100 AS price,
      ((1 + hash(i * 7) % 2000000)::BIGINT)::DECIMAL(18,0) / 100000000 AS size,
      CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END AS side, i AS seq,
      (${o.startMs}::BIGINT * 1000000 + i * ${Math.floor((spanMs * 1_000_000) / o.trades)})::BIGINT AS recv_ns
    FROM range(${o.trades}) t(i)) TO '${path}' (HEADER false)`);
}
