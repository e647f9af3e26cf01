// One Binance stream connection: its streams, output mode, ping/pong and inbound-rate state.
import type { SimSocket } from "../counters.ts";
import type { VenueBook } from "../venue-book.ts";

export class BinanceConn {
  readonly streams = new Set<string>();
  open = true;
  lastPingMs: number;
  lastPongMs: number;
  pingOutstanding = false;
  windowStartMs = 0;
  windowCount = 0;
  constructor(
    readonly ws: SimSocket,
    public combined: boolean,
    readonly micro: boolean,
    readonly openedMs: number,
  ) {
    this.lastPingMs = openedMs;
    this.lastPongMs = openedMs;
  }
}

export interface DepthWindow {
  lastU: number;
  bids: Map<number, number>;
  asks: Map<number, number>;
}

export interface SymbolState {
  book: VenueBook;
  fast: DepthWindow;
  slow: DepthWindow;
  lastBbo: string;
}
