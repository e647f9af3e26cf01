// Consumer filters: the JSON line a consumer sends, its validation, and the compiled lookup tables the relay
// checks per frame (two integer lookups, no allocation).
import {
  byteInstrument,
  byteKind,
  byteKindIndex,
  EXCHANGE_IDS,
  EXCHANGES,
  type ExchangeName,
  KIND_IDS,
  KINDS,
  Kind,
  type KindName,
} from "../schema/frame.ts";

export type { KindName };

/** Empty or missing field = everything. */
export interface ConsumerFilter {
  exchanges?: ExchangeName[];
  instruments?: number[];
  kinds?: KindName[];
}

/**
 * Where a consumer wants to start (relay/README.md, "Resume"): per exchange the next journal seq wanted, and/or
 * a receive time (ns) for the exchanges not in `from`. Absent = live.
 */
export interface ResumePosition {
  from?: Partial<Record<ExchangeName, number>>;
  /** ns since the epoch, as decimal text (a JSON number loses precision above 2^53). */
  fromTime?: string;
}

/** The line a consumer sends: a filter, an optional name for logs and metrics, and where to start. */
export interface FilterLine extends ConsumerFilter, ResumePosition {
  name?: string;
}

const FIELDS = new Set(["name", "exchanges", "instruments", "kinds", "from", "fromTime"]);

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
    if (!FIELDS.has(key)) throw new FilterError(`unknown filter field "${key}"`);
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
  if (v.from !== undefined) out.from = parseFrom(v.from);
  if (v.fromTime !== undefined) out.fromTime = parseTime(v.fromTime);
  return out;
}

function parseFrom(value: unknown): Partial<Record<ExchangeName, number>> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new FilterError("from must be an object of exchange: next seq");
  const out: Partial<Record<ExchangeName, number>> = {};
  for (const [ex, seq] of Object.entries(value)) {
    if (!(ex in EXCHANGE_IDS)) throw new FilterError(`unknown from exchange ${JSON.stringify(ex)}`);
    if (!Number.isSafeInteger(seq) || (seq as number) < 0)
      throw new FilterError(`from.${ex} must be an integer 0..2^53-1, got ${JSON.stringify(seq)}`);
    out[ex as ExchangeName] = seq as number;
  }
  return out;
}

function parseTime(value: unknown): string {
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== "string" || !/^\d{1,19}$/.test(text) || BigInt(text) > 2n ** 63n - 1n)
    throw new FilterError(`fromTime must be ns since the epoch (decimal text), got ${JSON.stringify(value)}`);
  return BigInt(text).toString();
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
export function formatFilterLine(filter: ConsumerFilter, name?: string, resume?: ResumePosition): string {
  const line: FilterLine = {};
  if (name !== undefined) line.name = name;
  if (filter.exchanges?.length) line.exchanges = filter.exchanges;
  if (filter.instruments?.length) line.instruments = filter.instruments;
  if (filter.kinds?.length) line.kinds = filter.kinds;
  if (resume?.from && Object.keys(resume.from).length > 0) line.from = resume.from;
  if (resume?.fromTime !== undefined) line.fromTime = resume.fromTime;
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
  const exchanges = (filter.exchanges?.length ? filter.exchanges : EXCHANGES).map((e) => EXCHANGE_IDS[e]);
  const kinds = (filter.kinds?.length ? filter.kinds : KINDS).map((k) => KIND_IDS[k]);
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
  if (f.kindExchange[byteKindIndex(bytes, offset)] === 0) return false;
  const table = f.instruments;
  if (table === null) return true;
  const instrument = byteInstrument(bytes, offset);
  return table[instrument] === 1 || (instrument === 0 && byteKind(bytes, offset) === Kind.Status);
}
