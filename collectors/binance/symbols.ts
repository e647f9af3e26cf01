// Combined streams: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md
// The streams one connection carries, and an allocation-free lookup from the `stream` name in a message
// (a range of the raw text) to the instrument and channel. Slicing the name out to key a Map would allocate
// a string per message.
import type { Instrument } from "../../schema/instruments.ts";

export const Channel = { Trade: 1, Depth: 2, BookTicker: 3 } as const;
export type Channel = (typeof Channel)[keyof typeof Channel];

/** Binance allows at most this many streams on one connection. */
export const MAX_STREAMS_PER_CONNECTION = 1024;

/** The diff depth stream to subscribe: 100 ms or 1000 ms batches of the same update-id sequence. */
export type DepthStream = "depth@100ms" | "depth";

export interface StreamEntry {
  name: string;
  channel: Channel;
  instrument: Instrument;
  /** Index of the instrument among this venue's symbols (per-symbol state arrays). */
  slot: number;
}

function hashRange(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class StreamTable {
  /** The streams subscribed, three per symbol. */
  readonly entries: StreamEntry[] = [];
  /** Every name recognised: the subscribed ones, and the other depth speed (a recording made with it
   *  replays through the same book logic; the update ids are the same sequence). */
  private readonly known: StreamEntry[] = [];
  private readonly table: Int32Array;
  private readonly mask: number;

  constructor(instruments: readonly Instrument[], depthStream: DepthStream = "depth@100ms") {
    const otherDepth = depthStream === "depth" ? "depth@100ms" : "depth";
    instruments.forEach((instrument, slot) => {
      const symbol = instrument.venues.binance?.symbol.toLowerCase();
      if (!symbol) return;
      this.entries.push(
        { name: `${symbol}@trade`, channel: Channel.Trade, instrument, slot },
        { name: `${symbol}@${depthStream}`, channel: Channel.Depth, instrument, slot },
        { name: `${symbol}@bookTicker`, channel: Channel.BookTicker, instrument, slot },
      );
      this.known.push({ name: `${symbol}@${otherDepth}`, channel: Channel.Depth, instrument, slot });
    });
    this.known.unshift(...this.entries);
    let size = 16;
    while (size < this.known.length * 4) size *= 2;
    this.table = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    this.known.forEach((entry, index) => {
      let at = hashRange(entry.name, 0, entry.name.length) & this.mask;
      while (this.table[at] !== -1) at = (at + 1) & this.mask;
      this.table[at] = index;
    });
  }

  /** The entry whose name equals text[start, end), or undefined. */
  find(text: string, start: number, end: number): StreamEntry | undefined {
    const length = end - start;
    let at = hashRange(text, start, end) & this.mask;
    for (;;) {
      const index = this.table[at]!;
      if (index === -1) return undefined;
      const entry = this.known[index]!;
      const name = entry.name;
      if (name.length === length) {
        let k = 0;
        while (k < length && name.charCodeAt(k) === text.charCodeAt(start + k)) k++;
        if (k === length) return entry;
      }
      at = (at + 1) & this.mask;
    }
  }

  /** The `streams=` query value: every stream name joined with '/'. */
  query(): string {
    return this.entries.map((e) => e.name).join("/");
  }
}
