// makeLadder: one exchange's L2 book for one symbol from the bridge's book messages (absolute sizes, "0"
// deletes, reset clears), plus the resync mark from status messages. Levels are keyed by their exact price
// mantissa; sizes stay the exchange's text. The view (top N with cumulative size) is computed on demand, so
// a burst of updates between two frames costs one sort.
import { formatFixed, parseFixed } from "../../../schema/decimal.ts";
import type { BookLevel } from "../../../schema/messages.ts";
import type { BookMessage, StatusMessage } from "../lib/messages.ts";

export interface LadderLevel {
  price: string;
  size: string;
  /** Cumulative size from the best level to this one, exact. */
  total: string;
}

export interface LadderView {
  bids: LadderLevel[];
  asks: LadderLevel[];
  /** Best ask − best bid, exact; null if a side is empty. */
  spread: string | null;
  resyncing: boolean;
  /** Why the last resync began ("checksum", "sequence_gap", ...). */
  reason: string | null;
  updates: number;
}

interface Level {
  price: string;
  size: string;
  sizeM: number;
}

export function makeLadder(priceDecimals: number, sizeDecimals: number) {
  const bids = new Map<number, Level>();
  const asks = new Map<number, Level>();
  let resyncing = false;
  let reason: string | null = null;
  let updates = 0;
  let synced = false;

  function set(side: Map<number, Level>, levels: readonly BookLevel[]): void {
    for (const [p, s] of levels) {
      const key = parseFixed(p, priceDecimals);
      const sizeM = parseFixed(s, sizeDecimals);
      if (!Number.isSafeInteger(key) || !Number.isSafeInteger(sizeM)) continue; // the bridge sends exact values
      if (sizeM === 0) side.delete(key);
      else side.set(key, { price: p, size: s, sizeM });
    }
  }

  function top(side: Map<number, Level>, depth: number, descending: boolean): LadderLevel[] {
    const keys = [...side.keys()].sort((a, b) => (descending ? b - a : a - b));
    const out: LadderLevel[] = [];
    let total = 0;
    for (let i = 0; i < keys.length && i < depth; i++) {
      const l = side.get(keys[i]!)!;
      total += l.sizeM;
      out.push({ price: l.price, size: l.size, total: formatFixed(total, sizeDecimals) });
    }
    return out;
  }

  return {
    applyBook(m: BookMessage): void {
      if (m.reset) {
        bids.clear();
        asks.clear();
        synced = true;
        // A fresh snapshot ends a resync even if its book_synced status was missed (or not subscribed).
        if (m.snapshot) resyncing = false;
      }
      set(bids, m.bids);
      set(asks, m.asks);
      updates++;
    },
    applyStatus(m: StatusMessage): void {
      if (m.status === "book_resync") {
        resyncing = true;
        reason = m.reason ?? null;
      } else if (m.status === "book_synced") resyncing = false;
      else if (m.status === "disconnected") resyncing = true;
    },
    get synced(): boolean {
      return synced;
    },
    view(depth: number): LadderView {
      const b = top(bids, depth, true);
      const a = top(asks, depth, false);
      let spread: string | null = null;
      if (b.length && a.length) {
        const bestBid = parseFixed(b[0]!.price, priceDecimals);
        const bestAsk = parseFixed(a[0]!.price, priceDecimals);
        spread = formatFixed(bestAsk - bestBid, priceDecimals);
      }
      return { bids: b, asks: a, spread, resyncing, reason, updates };
    },
    get levels(): { bids: number; asks: number } {
      return { bids: bids.size, asks: asks.size };
    },
  };
}

export type Ladder = ReturnType<typeof makeLadder>;
