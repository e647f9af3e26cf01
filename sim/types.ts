// Public types of the exchange simulator.
import { EXCHANGES, type ExchangeName } from "../schema/frame.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";

export type VenueName = ExchangeName;
export const VENUES: readonly VenueName[] = EXCHANGES;

export interface SimOptions {
  /** 0 = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  registry?: InstrumentRegistry;
  seed?: number;
  /** Market events per second per instrument (trades + book changes). Default 20. */
  eventsPerSecond?: number;
  /** What Coinbase market_trades `side` means. Default "maker" (the side of the resting order). */
  coinbaseTradeSide?: "maker" | "taker";
  /** Binance server ping interval, default 20000; no pong within 3 intervals disconnects. */
  binancePingIntervalMs?: number;
  /** Binance forced disconnect after this long, default 24 h. */
  binanceMaxConnectionMs?: number;
  /** Kraken/Coinbase heartbeat interval, default 1000. */
  heartbeatIntervalMs?: number;
  /** Trades each venue symbol keeps for its REST trade history (default 100000); older ones cannot be backfilled. */
  historyLimit?: number;
}

export const FAULT_KINDS = [
  "drop",
  "corrupt-checksum",
  "disconnect",
  "stall",
  "malformed",
  "rest-status",
  "server-shutdown",
  "cross-book",
  "replay-trades",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  venue: VenueName;
  fault: FaultKind;
  /** The venue's own symbol ("BTC/USD", "BTC-USD", "BTCUSDT"). */
  symbol?: string;
  /** Kraken: book|trade|ticker|heartbeat; Coinbase: l2_data (or level2)|market_trades|ticker|heartbeats; Binance: trade|depth|depth@100ms|bookTicker|aggTrade. */
  channel?: string;
  count?: number;
  durationMs?: number;
  status?: 429 | 418;
}

export interface FaultController {
  /** Validates and applies a fault; throws FaultError on a bad one. */
  inject(fault: Fault): void;
  /** Faults still pending or running. */
  active(): Fault[];
  /** Cancel every pending fault (held stall messages are released). */
  clear(): void;
}

export interface BookTop {
  bid: string | null;
  bidQty: string | null;
  ask: string | null;
  askQty: string | null;
  /** Binance update id / Kraken-Coinbase event count, for comparisons. */
  updateId: number;
}

export interface VenueStats {
  connectionsOpen: number;
  connectionsTotal: number;
  /** Data and control messages sent, by wire channel (binance: stream type). */
  messagesSent: Record<string, number>;
  messagesReceived: number;
  /** Messages dropped on purpose by a fault. */
  messagesDropped: number;
  lastTradeId: Record<string, number>;
  restRequests: number;
  bookTop: Record<string, BookTop>;
}

export interface SimStats {
  uptimeMs: number;
  marketEvents: number;
  /** Exceptions caught in the loop or in request handlers (each is logged). */
  errors: number;
  kraken: VenueStats;
  coinbase: VenueStats;
  binance: VenueStats;
}

export interface Simulator extends AsyncDisposable {
  port: number;
  urls: {
    kraken: string;
    coinbase: string;
    binanceWs: string;
    binanceRest: string;
    /** Base of the REST trade-history routes (KRAKEN_REST_URL / COINBASE_REST_URL). */
    krakenRest: string;
    coinbaseRest: string;
    /** GET: every trade the venues published, per exchange and symbol (history.ts). */
    ledger: string;
  };
  faults: FaultController;
  stats(): SimStats;
  stop(): Promise<void>;
}
