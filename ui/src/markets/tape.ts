// makeTape: the latest trades across exchanges, newest first, kept to what can be shown (conflation: a
// burst of 10,000 trades in one frame keeps only the last `capacity`).
import type { TradeMessage } from "../lib/messages.ts";

export function makeTape(capacity = 60) {
  let rows: TradeMessage[] = [];
  let total = 0;
  return {
    /** One frame's trades in arrival order. */
    add(trades: readonly TradeMessage[]): void {
      if (trades.length === 0) return;
      total += trades.length;
      const fresh = trades.length > capacity ? trades.slice(trades.length - capacity) : trades.slice();
      fresh.reverse();
      rows = fresh.length >= capacity ? fresh : fresh.concat(rows.slice(0, capacity - fresh.length));
    },
    clear(): void {
      rows = [];
    },
    rows(): readonly TradeMessage[] {
      return rows;
    },
    get total(): number {
      return total;
    },
  };
}
