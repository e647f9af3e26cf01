// The bridge's WebSocket messages (docs/stream-api.md) as types, field lists and one checker. The bridge's
// bridge/format.ts writes them (a test checks its output against these), the dashboard reads them. Prices and
// sizes are exact decimal strings, times ns-since-epoch strings: never JSON numbers.
import type { ExchangeName, KindName, RESYNC_REASON_NAMES, STATUS_NAMES } from "./frame.ts";

/** Exact decimal text: "50000.12", "0.000012345", "0"; trailing fractional zeros trimmed, never exponent. */
export type DecimalText = string;
/** Nanoseconds since the Unix epoch as decimal text ("1700000000123456789"); too large for a JSON number. */
export type NanosText = string;
/** A u64 exchange id (trade id, update id, checksum) as decimal text. */
export type U64Text = string;

export type StatusName = (typeof STATUS_NAMES)[keyof typeof STATUS_NAMES];
export type ResyncReasonName = (typeof RESYNC_REASON_NAMES)[keyof typeof RESYNC_REASON_NAMES] | "unknown";
export type Side = "buy" | "sell" | "unknown";
/** `[price, size]`; size "0" removes the level, any other size replaces it. */
export type BookLevel = readonly [price: DecimalText, size: DecimalText];

/** Fields every market message ends with, from the frame that completed it. */
interface Tail {
  /** The collector's frame sequence number for this exchange (u32): a gap here is visible loss. */
  readonly seq: number;
  /** The exchange's event time; null when the exchange gave none. */
  readonly tsExchange: NanosText | null;
  /** When the collector received it (host CLOCK_REALTIME). */
  readonly tsRecv: NanosText | null;
}

export interface TradeMessage extends Tail {
  readonly type: "trade";
  readonly exchange: ExchangeName;
  readonly symbol: string;
  readonly price: DecimalText;
  readonly size: DecimalText;
  /** The aggressor (taker) side. */
  readonly side: Side;
  readonly tradeId: U64Text;
  /** Fetched from the exchange's REST history after a gap, not seen live (frame flag BACKFILL). */
  readonly backfill?: true;
}

export interface BookMessage extends Tail {
  readonly type: "book";
  readonly exchange: ExchangeName;
  readonly symbol: string;
  /** The levels belong to a snapshot. */
  readonly snapshot: boolean;
  /** Clear the book of this symbol first (a snapshot begins). */
  readonly reset: boolean;
  /** An update too long to hold was split; more of it follows. */
  readonly partial?: true;
  /** A snapshot the bridge built from its own copy of the book (on subscribe, after conflation). */
  readonly cached?: true;
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
  /** The exchange's update id, or Kraken's checksum. */
  readonly updateId: U64Text;
}

export interface BboMessage extends Tail {
  readonly type: "bbo";
  readonly exchange: ExchangeName;
  readonly symbol: string;
  /** null: that side never seen yet; size "0": the side is empty. */
  readonly bidPrice: DecimalText | null;
  readonly bidSize: DecimalText | null;
  readonly askPrice: DecimalText | null;
  readonly askSize: DecimalText | null;
}

export interface StatusMessage extends Tail {
  readonly type: "status";
  readonly exchange: ExchangeName;
  /** null: about the whole connection. */
  readonly symbol: string | null;
  readonly status: StatusName;
  /** Meaning depends on status (docs/stream-api.md): pid, silence ms, first missing id or seq, ... */
  readonly detail: number;
  readonly count: number;
  /** Only on book_resync. */
  readonly reason?: ResyncReasonName;
}

export type ErrorCode =
  | "bad_request"
  | "unknown_values"
  | "too_many_subscriptions"
  | "slow_client"
  | "token_expired"
  | "session_revoked";
/** Why a slow client was cut (with code "slow_client"). */
export type SlowReason = "buffer" | "behind" | "budget";

export interface ErrorMessage {
  readonly type: "error";
  readonly code: ErrorCode;
  readonly message: string;
  /** With unknown_values: the names the bridge does not know. */
  readonly unknown?: {
    readonly exchanges?: readonly string[];
    readonly symbols?: readonly string[];
    readonly kinds?: readonly string[];
  };
  readonly reason?: SlowReason;
}

export interface SubscribedReply {
  readonly type: "subscribed";
  /** Topics the client holds now. */
  readonly topics: number;
  readonly added: number;
}

export interface UnsubscribedReply {
  readonly type: "unsubscribed";
  readonly topics: number;
  readonly removed: number;
}

export type MarketMessage = TradeMessage | BookMessage | BboMessage | StatusMessage;
/** Anything the bridge sends. A WebSocket message carries one of these or a JSON array of them. */
export type ServerMessage = MarketMessage | ErrorMessage | SubscribedReply | UnsubscribedReply;
export type ServerMessageType = ServerMessage["type"];

/** Client → bridge. Empty or missing lists mean all; subscriptions add up; unsubscribe removes what it names. */
export interface SubscribeRequest {
  readonly op: "subscribe";
  readonly exchanges?: readonly ExchangeName[];
  readonly symbols?: readonly string[];
  readonly kinds?: readonly KindName[];
}
export interface UnsubscribeRequest {
  readonly op: "unsubscribe";
  readonly exchanges?: readonly ExchangeName[];
  readonly symbols?: readonly string[];
  readonly kinds?: readonly KindName[];
}
export type ClientMessage = SubscribeRequest | UnsubscribeRequest;

export { checkServerMessage, MESSAGE_FIELDS, parseServerData, ServerMessageError } from "./messages-check.ts";
