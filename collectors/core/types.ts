// The contract between the shared feed machinery (collectors/core) and each venue adapter.
// A venue is data plus a few hooks (tardis-node's shape): URL, subscribe messages, a message handler.
import type { Logger } from "../../lib/log.ts";
import type { ExchangeName, Kind, ResyncReason, Status } from "../../schema/frame.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";
import type { TradeHistory } from "./backfill.ts";
import type { CollectorMetrics } from "./metrics.ts";

/**
 * Where parsers write frames. Frames reserved with begin() stay pending until commit(), so one exchange
 * message becomes visible atomically; rollback() drops them (a message that failed half-way).
 * `view` is a stable staging buffer: write fields at the returned offset with schema/frame.ts writers
 * (writeId, writePrice, writeSize, writeTsExchange/writeTsExchangeParts, or schema/stamp.ts's
 * writeTsExchangeRfc3339/writeTsExchangeEpoch).
 * Sequence numbers and the receive time are filled in by commit().
 */
export interface FrameEmitter {
  readonly view: DataView;
  begin(kind: Kind, flags: number, instrument: number): number;
  commit(): void;
  rollback(): void;
  /** Stamp the host clock as the receive time of what is parsed next (the feed does it per message;
   * an adapter calls it for data that arrives another way, e.g. a REST snapshot). */
  markReceived(): void;
  /** Receive time of the message being parsed, ms since the epoch. */
  readonly receivedMs: number;
  /** Pending frames since the last commit. */
  readonly pending: number;
  /** Emit one status frame now (commits whatever is pending first). */
  status(code: Status, instrument: number, detail: number, count: number): void;
}

/** What a venue adapter may use while handling a message. */
export interface FeedContext {
  readonly exchange: ExchangeName;
  readonly emitter: FrameEmitter;
  readonly registry: InstrumentRegistry;
  readonly metrics: CollectorMetrics;
  readonly log: Logger;
  /** Send a text message to the exchange on the current connection (dropped, and counted, if closed). */
  send(text: string): void;
  /** Close the connection and reconnect with backoff (for connection-wide failures). */
  reconnect(reason: string): void;
  /** Record that a symbol produced data now (stale detection learns each symbol's normal rate). */
  touch(instrument: number): void;
  /**
   * Ask for one symbol's book to be rebuilt. Emits a BookResync status frame now, then runs `run` after a
   * jittered delay within the venue's resync budget (rate-limit aware). Repeated requests for a symbol
   * already waiting are merged.
   */
  resync(instrument: number, reason: ResyncReason, run: () => void | Promise<void>): void;
  /**
   * Trade de-duplication and gap detection per symbol: returns false for a trade id already seen (reconnect
   * replays, snapshots); emits a TradeGap status frame when ids jump. `contiguous` = the venue's ids are
   * consecutive per symbol, so a jump is a gap.
   */
  acceptTrade(instrument: number, tradeId: number, contiguous: boolean): boolean;
  /**
   * A well-formed trade the parser could not represent (reported through core/bad-value.ts): its id is
   * consumed, so the next trade does not report it as exchange loss; counted as rejected.
   */
  rejectTrade(instrument: number, tradeId: number, contiguous: boolean): void;
  /** Wall clock, ms. */
  now(): number;
}

/** One exchange. Every method must never throw on exchange input: count, log (rate-limited) and skip. */
export interface VenueAdapter {
  readonly exchange: ExchangeName;
  /** The WebSocket URL for this connection (Binance puts streams in it). */
  url(): string;
  /** Text messages to send right after the socket opens. */
  subscribeMessages(): string[];
  /** One text message from the exchange. */
  onMessage(text: string, ctx: FeedContext): void;
  /** A new connection opened (reset per-connection state: Coinbase sequence_num, book sync). */
  onOpen?(ctx: FeedContext): void;
  /** The connection closed; books are no longer trustworthy. */
  onClose?(ctx: FeedContext): void;
  /** Application-level keepalive (Kraken {"method":"ping"}); sent every pingIntervalMs. */
  ping?(): string;
  readonly pingIntervalMs?: number;
  /** Close and reconnect before this age (Binance cuts at 24 h). */
  readonly maxConnectionMs?: number;
  /** Reconnect if nothing at all arrives for this long (heartbeats included). */
  readonly idleTimeoutMs: number;
  /** Books rebuilt per minute at most (REST weight budget, resubscribe limits). */
  readonly resyncsPerMinute: number;
  /** The exchange's public REST trade history, for backfilling trade-id gaps (core/backfill.ts). */
  readonly history?: TradeHistory;
}

export type VenueFactory = (options: {
  registry: InstrumentRegistry;
  env: Record<string, string | undefined>;
}) => VenueAdapter;
