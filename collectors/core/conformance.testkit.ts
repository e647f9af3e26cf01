// The shared conformance suite: every venue replays recorded real messages through its adapter and the
// normalized frames are compared with what a person worked out by hand from the fixture.

import { formatFixed } from "../../schema/decimal.ts";
import {
  EXCHANGE_NAMES,
  type ExchangeName,
  FLAG_ASK,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  FLAG_TAKER_BUY,
  FLAG_TAKER_SELL,
  type FrameFields,
  KIND_NAMES,
  Kind,
  RESYNC_REASON_NAMES,
  STATUS_NAMES,
  Status,
} from "../../schema/frame.ts";
import { DEFAULT_INSTRUMENTS, type Instrument, InstrumentRegistry } from "../../schema/instruments.ts";
import { createTestContext } from "./testing.testkit.ts";
import type { VenueFactory } from "./types.ts";

/** A frame as a reader of the fixture would write it down. Omitted fields are not compared. */
export interface ExpectedFrame {
  kind: "trade" | "book" | "bbo" | "status";
  /** Canonical symbol; "" for connection-wide status frames. */
  symbol: string;
  /** trade: taker side; book/bbo: bid or ask. */
  side?: "buy" | "sell" | "unknown" | "bid" | "ask";
  /** book: which of snapshot/begin/end are set (all others must be unset). */
  flags?: Array<"snapshot" | "begin" | "end">;
  /** Trade id, update id or status detail, as a decimal string. */
  id?: string;
  price?: string;
  size?: string;
  /** Exchange time as ns since the epoch, decimal string. */
  tsExchange?: string;
  /** Status name (STATUS_NAMES) for status frames. */
  status?: string;
  /** For book_resync: the reason name. */
  reason?: string;
}

export interface ConformanceCase {
  name: string;
  /** Repo-relative fixture path(s) the messages come from. */
  source: string;
  messages: string[];
  expected: ExpectedFrame[];
  /** Malformed or unknown messages the adapter must count and skip. */
  parseErrors?: number;
  /** Extra instruments for doc examples on pairs outside the default registry (e.g. MATIC/USD). */
  instruments?: Instrument[];
  /** Compare only these frame kinds (e.g. skip status frames a case does not care about). */
  kinds?: ExpectedFrame["kind"][];
}

export interface VenueConformance {
  exchange: ExchangeName;
  factory: VenueFactory;
  cases: ConformanceCase[];
}

/** Replay a case through a fresh adapter; returns the frames in ExpectedFrame form and the error count. */
export function replayCase(
  venue: VenueConformance,
  c: ConformanceCase,
): { frames: ExpectedFrame[]; parseErrors: number } {
  const registry = new InstrumentRegistry([...DEFAULT_INSTRUMENTS, ...(c.instruments ?? [])]);
  const t = createTestContext(venue.exchange, registry);
  const adapter = venue.factory({ registry, env: {} });
  adapter.onOpen?.(t.ctx);
  for (const message of c.messages) {
    t.ctx.emitter.markReceived();
    adapter.onMessage(message, t.ctx);
  }
  t.ctx.resyncs.stop();
  const text = t.ctx.metrics.registry.render();
  let parseErrors = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("tapewire_collector_parse_errors_total"))
      parseErrors += Number(line.split(" ").pop());
  }
  const times = t.exchangeTimes();
  const frames = t
    .frames()
    .map((f, i) => describeFrame(f, registry, times[i]!))
    .filter((f) => !c.kinds || c.kinds.includes(f.kind));
  return { frames, parseErrors };
}

export function describeFrame(
  f: FrameFields,
  registry: InstrumentRegistry,
  tsExchange: bigint,
): ExpectedFrame {
  const inst = registry.byId(f.instrument);
  const kind = KIND_NAMES[f.kind] as ExpectedFrame["kind"];
  const out: ExpectedFrame = { kind, symbol: inst?.symbol ?? "" };
  if (f.kind === Kind.Status) {
    const code = f.flags >> 4;
    out.status = STATUS_NAMES[code];
    out.id = String(f.id);
    if (code === Status.BookResync) out.reason = RESYNC_REASON_NAMES[f.id];
    return out;
  }
  out.id = String(f.id);
  out.price = inst ? formatFixed(f.price, inst.priceDecimals) : String(f.price);
  out.size = inst ? formatFixed(f.size, inst.sizeDecimals) : String(f.size);
  out.tsExchange = tsExchange.toString();
  if (f.kind === Kind.Trade) {
    out.side = f.flags & FLAG_TAKER_BUY ? "buy" : f.flags & FLAG_TAKER_SELL ? "sell" : "unknown";
  } else {
    out.side = f.flags & FLAG_ASK ? "ask" : "bid";
    const flags: NonNullable<ExpectedFrame["flags"]> = [];
    if (f.flags & FLAG_SNAPSHOT) flags.push("snapshot");
    if (f.flags & FLAG_BEGIN) flags.push("begin");
    if (f.flags & FLAG_END) flags.push("end");
    out.flags = flags;
  }
  return out;
}

export const exchangeName = (id: number) => EXCHANGE_NAMES[id];
