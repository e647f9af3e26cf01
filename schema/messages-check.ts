// A runtime check for every server message type in schema/messages.ts: one field spec per type, typed so the
// compiler fails when a message type gains or loses a field the spec does not list. The dashboard can use it
// on what it receives; the bridge's tests use it on what bridge/format.ts writes.
import { EXCHANGES, RESYNC_REASON_NAMES, STATUS_NAMES } from "./frame.ts";
import type {
  BboMessage,
  BookMessage,
  ErrorMessage,
  ServerMessage,
  ServerMessageType,
  StatusMessage,
  SubscribedReply,
  TradeMessage,
  UnsubscribedReply,
} from "./messages.ts";

/** Returns a complaint, or undefined when the value is good. */
type Check = (value: unknown) => string | undefined;
interface Field {
  readonly optional: boolean;
  readonly check: Check;
}
/** Every key of T (optional ones too), and nothing else. */
type Spec<T> = { readonly [K in keyof T]-?: Field };

const req = (check: Check): Field => ({ optional: false, check });
const opt = (check: Check): Field => ({ optional: true, check });

const DECIMAL = /^(0|[1-9]\d*)(\.\d*[1-9])?$/;
const UNSIGNED = /^(0|[1-9]\d*)$/;
const text =
  (pattern: RegExp, what: string): Check =>
  (v) =>
    typeof v === "string" && pattern.test(v) ? undefined : `expected ${what}, got ${JSON.stringify(v)}`;
const decimal = text(DECIMAL, "an exact decimal string");
const u64 = text(UNSIGNED, "an unsigned integer string");
const orNull =
  (check: Check): Check =>
  (v) =>
    v === null ? undefined : check(v);
const oneOf =
  (values: readonly unknown[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `expected one of ${values.join(", ")}, got ${JSON.stringify(v)}`;
const literal =
  (value: unknown): Check =>
  (v) =>
    v === value ? undefined : `expected ${JSON.stringify(value)}`;
const integer: Check = (v) =>
  Number.isSafeInteger(v) ? undefined : `expected an integer, got ${JSON.stringify(v)}`;
const boolean: Check = (v) => (typeof v === "boolean" ? undefined : "expected true or false");
const string: Check = (v) =>
  typeof v === "string" && v.length > 0 ? undefined : "expected a non-empty string";
const stringList: Check = (v) =>
  Array.isArray(v) && v.every((s) => typeof s === "string") ? undefined : "expected an array of strings";
const levels: Check = (v) => {
  if (!Array.isArray(v)) return "expected an array of [price, size]";
  for (const level of v) {
    if (!Array.isArray(level) || level.length !== 2)
      return `expected [price, size], got ${JSON.stringify(level)}`;
    const bad = decimal(level[0]) ?? decimal(level[1]);
    if (bad) return bad;
  }
  return undefined;
};
const object =
  (spec: Record<string, Field>): Check =>
  (v) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? checkFields(spec, v as Record<string, unknown>)
      : "expected an object";

const tail = { seq: req(integer), tsExchange: req(orNull(u64)), tsRecv: req(orNull(u64)) };
const market = { exchange: req(oneOf(EXCHANGES)), symbol: req(string) };

const trade: Spec<TradeMessage> = {
  type: req(literal("trade")),
  ...market,
  price: req(decimal),
  size: req(decimal),
  side: req(oneOf(["buy", "sell", "unknown"])),
  tradeId: req(u64),
  backfill: opt(literal(true)),
  ...tail,
};
const book: Spec<BookMessage> = {
  type: req(literal("book")),
  ...market,
  snapshot: req(boolean),
  reset: req(boolean),
  partial: opt(literal(true)),
  cached: opt(literal(true)),
  bids: req(levels),
  asks: req(levels),
  updateId: req(u64),
  ...tail,
};
const bbo: Spec<BboMessage> = {
  type: req(literal("bbo")),
  ...market,
  bidPrice: req(orNull(decimal)),
  bidSize: req(orNull(decimal)),
  askPrice: req(orNull(decimal)),
  askSize: req(orNull(decimal)),
  ...tail,
};
const status: Spec<StatusMessage> = {
  type: req(literal("status")),
  exchange: market.exchange,
  symbol: req(orNull(string)),
  status: req(oneOf(Object.values(STATUS_NAMES))),
  detail: req(integer),
  count: req(integer),
  reason: opt(oneOf([...Object.values(RESYNC_REASON_NAMES), "unknown"])),
  ...tail,
};
const error: Spec<ErrorMessage> = {
  type: req(literal("error")),
  code: req(
    oneOf([
      "bad_request",
      "unknown_values",
      "too_many_subscriptions",
      "slow_client",
      "token_expired",
      "session_revoked",
    ]),
  ),
  message: req(string),
  unknown: opt(object({ exchanges: opt(stringList), symbols: opt(stringList), kinds: opt(stringList) })),
  reason: opt(oneOf(["buffer", "behind", "budget"])),
};
const subscribed: Spec<SubscribedReply> = {
  type: req(literal("subscribed")),
  topics: req(integer),
  added: req(integer),
};
const unsubscribed: Spec<UnsubscribedReply> = {
  type: req(literal("unsubscribed")),
  topics: req(integer),
  removed: req(integer),
};

const SPECS: { readonly [T in ServerMessageType]: Record<string, Field> } = {
  trade,
  book,
  bbo,
  status,
  error,
  subscribed,
  unsubscribed,
};

/** Per message type: the fields it always has and the ones it may have (for docs, tests and clients). */
export const MESSAGE_FIELDS: {
  readonly [T in ServerMessageType]: {
    readonly required: readonly string[];
    readonly optional: readonly string[];
  };
} = Object.fromEntries(
  Object.entries(SPECS).map(([type, spec]) => [
    type,
    {
      required: Object.keys(spec).filter((k) => !spec[k]?.optional),
      optional: Object.keys(spec).filter((k) => spec[k]?.optional),
    },
  ]),
) as never;

function checkFields(spec: Record<string, Field>, v: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(v)) if (!(key in spec)) return `unexpected field ${JSON.stringify(key)}`;
  for (const [key, field] of Object.entries(spec)) {
    if (!(key in v)) {
      if (field.optional) continue;
      return `missing field ${JSON.stringify(key)}`;
    }
    const bad = field.check(v[key]);
    if (bad) return `${key}: ${bad}`;
  }
  return undefined;
}

/** What is wrong with a decoded server message, or undefined when it matches its type exactly. */
export function checkServerMessage(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected a JSON object";
  const type = (value as { type?: unknown }).type;
  const spec = typeof type === "string" ? SPECS[type as ServerMessageType] : undefined;
  if (!spec) return `unknown message type ${JSON.stringify(type)}`;
  const bad = checkFields(spec, value as Record<string, unknown>);
  return bad && `${type} message: ${bad}`;
}

export class ServerMessageError extends Error {
  override readonly name = "ServerMessageError";
}

/** One WebSocket text message (one object or an array of them) → checked messages; throws ServerMessageError. */
export function parseServerData(data: string): ServerMessage[] {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new ServerMessageError(`not JSON: ${data.slice(0, 80)}`);
  }
  const list = Array.isArray(value) ? value : [value];
  for (const m of list) {
    const bad = checkServerMessage(m);
    if (bad) throw new ServerMessageError(bad);
  }
  return list as ServerMessage[];
}
