// Consumer filters: the JSON line a consumer sends, its validation, and the compiled lookup tables the relay
// checks per frame (two integer lookups, no allocation).
import { EXCHANGE_IDS, type ExchangeName, Kind } from "../schema/frame.ts";

export type KindName = "trade" | "book" | "bbo" | "status";
export const KIND_IDS: Record<KindName, number> = {
  trade: Kind.Trade,
  book: Kind.BookLevel,
  bbo: Kind.Bbo,
  status: Kind.Status,
};

/** Empty or missing field = everything. */
export interface ConsumerFilter {
  exchanges?: ExchangeName[];
  instruments?: number[];
  kinds?: KindName[];
}

/** The line a consumer sends: a filter plus an optional name for logs and metrics. */
export interface FilterLine extends ConsumerFilter {
  name?: string;
}

/** Longest filter line the relay accepts (a list of every u16 instrument id fits comfortably). */
export const MAX_FILTER_LINE = 1 << 20;

export class FilterError extends Error {
  override readonly name = "FilterError";
}

/** Validate a parsed JSON value as a filter line; throws FilterError naming the bad field. */
export function parseFilterLine(text: string): FilterLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FilterError(`filter line is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FilterError("filter line must be a JSON object");
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (key !== "name" && key !== "exchanges" && key !== "instruments" && key !== "kinds") {
      throw new FilterError(`unknown filter field "${key}"`);
    }
  }
  const out: FilterLine = {};
  if (v.name !== undefined) {
    if (typeof v.name !== "string" || v.name.length > 64)
      throw new FilterError("name must be a string of at most 64 chars");
    out.name = v.name;
  }
  if (v.exchanges !== undefined) {
    out.exchanges = stringList(v.exchanges, "exchanges", (s) => s in EXCHANGE_IDS) as ExchangeName[];
  }
  if (v.kinds !== undefined) out.kinds = stringList(v.kinds, "kinds", (s) => s in KIND_IDS) as KindName[];
  if (v.instruments !== undefined) {
    if (!Array.isArray(v.instruments))
      throw new FilterError("instruments must be an array of integers 0..65535");
    for (const id of v.instruments) {
      if (!Number.isInteger(id) || id < 0 || id > 65535)
        throw new FilterError(`bad instrument id ${JSON.stringify(id)}`);
    }
    out.instruments = v.instruments as number[];
  }
  return out;
}

function stringList(value: unknown, field: string, known: (s: string) => boolean): string[] {
  if (!Array.isArray(value)) throw new FilterError(`${field} must be an array of strings`);
  for (const s of value) {
    if (typeof s !== "string" || !known(s))
      throw new FilterError(`unknown ${field} entry ${JSON.stringify(s)}`);
  }
  return value as string[];
}

/** The text a client sends: one JSON object and "\n". */
export function formatFilterLine(filter: ConsumerFilter, name?: string): string {
  const line: FilterLine = {};
  if (name !== undefined) line.name = name;
  if (filter.exchanges?.length) line.exchanges = filter.exchanges;
  if (filter.instruments?.length) line.instruments = filter.instruments;
  if (filter.kinds?.length) line.kinds = filter.kinds;
  return `${JSON.stringify(line)}\n`;
}

/**
 * A filter compiled for the hot path. `kindExchange` is indexed by (exchange << 4) | kind, both taken straight
 * from the low nibbles of frame bytes 1 and 0; `instruments` is null when every instrument passes.
 */
export interface CompiledFilter {
  readonly kindExchange: Uint8Array;
  readonly instruments: Uint8Array | null;
}

export function compileFilter(filter: ConsumerFilter): CompiledFilter {
  const kindExchange = new Uint8Array(256);
  const exchanges = filter.exchanges?.length ? filter.exchanges.map((e) => EXCHANGE_IDS[e]) : [1, 2, 3];
  const kinds = filter.kinds?.length ? filter.kinds.map((k) => KIND_IDS[k]) : [1, 2, 3, 4];
  for (const ex of exchanges) for (const k of kinds) kindExchange[(ex << 4) | k] = 1;
  let instruments: Uint8Array | null = null;
  if (filter.instruments?.length) {
    instruments = new Uint8Array(65536);
    for (const id of filter.instruments) instruments[id] = 1;
  }
  return { kindExchange, instruments };
}

export const PASS_ALL: CompiledFilter = compileFilter({});

/** Does the frame at `offset` of `bytes` pass? Status frames for instrument 0 pass any instrument filter. */
export function passes(f: CompiledFilter, bytes: Uint8Array, offset: number): boolean {
  const b0 = bytes[offset]!;
  if (f.kindExchange[((bytes[offset + 1]! & 0x0f) << 4) | (b0 & 0x0f)] === 0) return false;
  const table = f.instruments;
  if (table === null) return true;
  const instrument = bytes[offset + 2]! | (bytes[offset + 3]! << 8);
  return table[instrument] === 1 || (instrument === 0 && (b0 & 0x0f) === Kind.Status);
}
