// One pub/sub topic per exchange × symbol × kind ("kraken:BTC-USD:trade"), plus "kraken:*:status" for events
// about a whole connection (instrument 0). Everything per (exchange, instrument) that the hot path needs is
// built once here: topic objects, JSON prefixes, the book and BBO state.
import { EXCHANGE_NAMES, EXCHANGES, type ExchangeName, KINDS, type KindName } from "../schema/frame.ts";
import type { Instrument, InstrumentRegistry } from "../schema/instruments.ts";
import { BboState } from "./bbo.ts";
import { BookState } from "./book.ts";

// Old names, kept while bridge/subscribe.ts and bridge/metrics.ts still import them: aliases, not copies.
export type { KindName };
export const KIND_NAMES_LIST: readonly KindName[] = KINDS;
export const EXCHANGE_LIST: readonly ExchangeName[] = EXCHANGES;

/** A topic and the messages waiting to be published on it in this tick. */
export class Topic {
  /** Clients that receive this topic now (conflated clients are not counted for book/bbo). */
  subscribers = 0;
  /** Comma-joined JSON objects waiting for the next flush. */
  pending = "";
  count = 0;
  constructor(
    readonly name: string,
    readonly kind: KindName,
    readonly symbol: SymbolEntry,
  ) {}
}

export interface BookDepths {
  /** Kraken's subscribed depth (KRAKEN_BOOK_DEPTH): books are truncated to it after every update. */
  kraken: number;
  /** Levels kept per side for the other exchanges (BRIDGE_BOOK_DEPTH). */
  other: number;
}

export class SymbolEntry {
  readonly trade: Topic;
  readonly book: Topic;
  readonly bbo: Topic;
  readonly status: Topic;
  /** `"exchange":"kraken","symbol":"BTC-USD"` — shared by every message about this symbol. */
  readonly head: string;
  readonly exchangeName: ExchangeName;
  readonly bookState: BookState;
  readonly bboState = new BboState();

  constructor(
    readonly exchange: number,
    readonly instrumentId: number,
    /** Undefined for instrument 0 (connection-wide) and for ids the registry does not know. */
    readonly instrument: Instrument | undefined,
    depth: BookDepths,
  ) {
    this.exchangeName = EXCHANGE_NAMES[exchange]!;
    const symbol = instrument ? instrument.symbol : instrumentId === 0 ? "*" : `#${instrumentId}`;
    this.head = `"exchange":"${this.exchangeName}","symbol":${instrument ? `"${symbol}"` : "null"}`;
    const base = `${this.exchangeName}:${symbol}:`;
    this.trade = new Topic(`${base}trade`, "trade", this);
    this.book = new Topic(`${base}book`, "book", this);
    this.bbo = new Topic(`${base}bbo`, "bbo", this);
    this.status = new Topic(`${base}status`, "status", this);
    // Kraken sends no delete for a level pushed out of the subscribed depth: consumers truncate (collectors/kraken).
    this.bookState =
      this.exchangeName === "kraken" ? new BookState(depth.kraken, true) : new BookState(depth.other, false);
  }

  topic(kind: KindName): Topic {
    return this[kind];
  }
}

/** SymbolEntry lookup by (exchange, instrument) in a flat array: two integer operations per frame. */
export class TopicTable {
  // Preallocated and filled, so V8 keeps it a fast array rather than a dictionary of sparse indexes.
  private readonly slots: (SymbolEntry | undefined)[] = new Array(4 * 65536).fill(undefined);
  private readonly byName = new Map<string, Topic>();
  /** Every entry created so far (the BBO sampler walks it). */
  readonly entries: SymbolEntry[] = [];
  private readonly listedBy = Object.fromEntries(
    EXCHANGES.map((name) => [name, [] as SymbolEntry[]]),
  ) as Record<ExchangeName, SymbolEntry[]>;

  constructor(
    readonly registry: InstrumentRegistry,
    private readonly bookDepth: BookDepths,
  ) {
    // Pre-build every listed combination and the connection-wide entries, so subscriptions can name them.
    for (const [id, name] of Object.entries(EXCHANGE_NAMES)) {
      this.entry(Number(id), 0);
      for (const inst of registry.listedOn(name)) this.listedBy[name].push(this.entry(Number(id), inst.id));
    }
  }

  /** The entry for a frame's exchange (1..3) and instrument id; created on first use. */
  entry(exchange: number, instrument: number): SymbolEntry {
    const slot = exchange * 65536 + instrument;
    let e = this.slots[slot];
    if (e === undefined) {
      e = new SymbolEntry(exchange, instrument, this.registry.byId(instrument), this.bookDepth);
      this.slots[slot] = e;
      this.entries.push(e);
      for (const t of [e.trade, e.book, e.bbo, e.status]) this.byName.set(t.name, t);
    }
    return e;
  }

  topic(name: string): Topic | undefined {
    return this.byName.get(name);
  }

  /** Entries a subscription may name: registry instruments listed on the exchange, and connection-wide status. */
  listed(exchange: ExchangeName): readonly SymbolEntry[] {
    return this.listedBy[exchange];
  }
}
