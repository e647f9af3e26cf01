// The variable types lib/config.ts knows: each builder returns a Var (name, default, meaning, parser). The
// parsers are strict (no silent truncation: "12abc", "1.5" and "9e99" are errors, not 12, 1 or Infinity) and
// exported for the property tests.

export type VarType = "int" | "port" | "bool" | "string" | "url" | "enum" | "bytes" | "duration" | "list";

/** One declared variable. parse() sees the raw text (never empty) and throws ExpectedError when it is bad. */
export interface Var<T> {
  readonly name: string;
  readonly type: VarType;
  readonly default: T;
  /** How the default reads in docs ("8 MiB", "unset"); derived unless the declaration gives one. */
  readonly defaultText: string;
  readonly meaning: string;
  /** What a good value looks like, used in error messages and docs ("an integer in 1..65535"). */
  readonly expected: string;
  /** A secret's value is never echoed in an error message. */
  readonly secret: boolean;
  parse(raw: string): T;
}

/** A parser's complaint; read() turns it into a ConfigIssue naming the variable. */
export class ExpectedError extends Error {
  override readonly name = "ExpectedError";
}

interface Common<D> {
  readonly default: D;
  readonly meaning: string;
  /** Docs text for the default when the value itself says little ("built-in list", "set by bun run dev"). */
  readonly defaultText?: string;
  readonly secret?: boolean;
}
interface Range {
  readonly min?: number;
  readonly max?: number;
}

function make<T, D extends T | undefined>(
  name: string,
  type: VarType,
  expected: string,
  opts: Common<D>,
  parse: (raw: string) => T,
  show: (value: T) => string,
): Var<T | D> {
  return Object.freeze({
    name,
    type,
    // A list default is frozen like the lists read() returns.
    default: Array.isArray(opts.default) ? Object.freeze(opts.default) : opts.default,
    defaultText: opts.defaultText ?? (opts.default === undefined ? "unset" : show(opts.default as T)),
    meaning: opts.meaning,
    expected,
    secret: opts.secret ?? false,
    parse,
  });
}

function inRange(value: number, min: number, max: number, expected: string): number {
  if (value < min || value > max) throw new ExpectedError(expected);
  return value;
}

function checkDefault<D>(name: string, d: D, parse: (raw: string) => unknown, text: (d: D) => string): void {
  if (d === undefined) return;
  try {
    parse(text(d));
  } catch (error) {
    throw new Error(
      `${name}: the declared default ${JSON.stringify(text(d))} is not ${(error as Error).message}`,
    );
  }
}

const INTEGER = /^[+-]?\d+(?:_\d+)*$/;

/** "262144", "262_144", "-1" → number; anything else (blank, "1.5", "1e3", "0x10", beyond 2^53) throws. */
export function parseInteger(raw: string, expected = "an integer"): number {
  if (!INTEGER.test(raw)) throw new ExpectedError(expected);
  const value = Number(raw.replaceAll("_", ""));
  if (!Number.isSafeInteger(value)) throw new ExpectedError(expected);
  return value;
}

export function int<D extends number | undefined>(name: string, opts: Common<D> & Range): Var<number | D> {
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const expected = `an integer in ${min}..${max}`;
  const parse = (raw: string) => inRange(parseInteger(raw, expected), min, max, expected);
  checkDefault(name, opts.default, parse, String);
  return make(name, "int", expected, opts, parse, String);
}

/** A TCP port; 0 = any free port. With `off: true`, -1 turns the listener off. */
export function port<D extends number | undefined>(
  name: string,
  opts: Common<D> & { readonly off?: boolean },
): Var<number | D> {
  const min = opts.off ? -1 : 0;
  const expected = `a port in 0..65535 (0 = any free port${opts.off ? ", -1 = off" : ""})`;
  const parse = (raw: string) => inRange(parseInteger(raw, expected), min, 65535, expected);
  checkDefault(name, opts.default, parse, String);
  return make(name, "port", expected, opts, parse, String);
}

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off"]);
export function parseBool(raw: string): boolean {
  const text = raw.trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new ExpectedError("true or false (also 1/0, yes/no, on/off)");
}

export function bool<D extends boolean | undefined>(name: string, opts: Common<D>): Var<boolean | D> {
  return make(name, "bool", "true or false (also 1/0, yes/no, on/off)", opts, parseBool, String);
}

export function string<D extends string | undefined>(
  name: string,
  opts: Common<D> & { readonly pattern?: RegExp; readonly expected?: string },
): Var<string | D> {
  const expected = opts.expected ?? (opts.pattern ? `text matching ${opts.pattern}` : "text");
  const parse = (raw: string) => {
    if (opts.pattern && !opts.pattern.test(raw)) throw new ExpectedError(expected);
    return raw;
  };
  checkDefault(name, opts.default, parse, String);
  return make(name, "string", expected, opts, parse, (v) => v);
}

/** A URL whose scheme is one of `protocols` (e.g. ["postgres:", "postgresql:"]); the text is returned as given. */
export function url<D extends string | undefined>(
  name: string,
  opts: Common<D> & { readonly protocols: readonly string[] },
): Var<string | D> {
  const expected = `a URL starting ${opts.protocols.map((p) => `${p}//`).join(" or ")}`;
  const parse = (raw: string) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ExpectedError(expected);
    }
    if (!opts.protocols.includes(parsed.protocol)) throw new ExpectedError(expected);
    return raw;
  };
  checkDefault(name, opts.default, parse, String);
  return make(name, "url", expected, opts, parse, (v) => v);
}

export function oneOf<const V extends readonly string[], D extends V[number] | undefined>(
  name: string,
  opts: Common<D> & { readonly values: V },
): Var<V[number] | D> {
  const expected = `one of ${opts.values.join(", ")}`;
  const parse = (raw: string): V[number] => {
    if (!opts.values.includes(raw)) throw new ExpectedError(expected);
    return raw;
  };
  checkDefault(name, opts.default, parse, String);
  return make(name, "enum", expected, opts, parse, (v) => v);
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1 << 20,
  mib: 1 << 20,
  g: 1 << 30,
  gib: 1 << 30,
};
const BYTES = /^(\d+(?:_\d+)*)\s*([a-z]*)$/i;

/** "8388608", "512KiB", "8 MiB", "1g" → bytes. KB/MB/GB are refused: 1000 or 1024 is a guess we do not make. */
export function parseBytes(raw: string, expected = "a size like 65536, 512KiB or 8MiB"): number {
  const match = BYTES.exec(raw.trim());
  const factor = match ? BYTE_UNITS[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || factor === undefined) throw new ExpectedError(expected);
  const value = Number((match[1] ?? "").replaceAll("_", "")) * factor;
  if (!Number.isSafeInteger(value)) throw new ExpectedError(expected);
  return value;
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ["GiB", 1 << 30],
    ["MiB", 1 << 20],
    ["KiB", 1024],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return String(n);
}

export function bytes<D extends number | undefined>(name: string, opts: Common<D> & Range): Var<number | D> {
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const expected = `a size like 65536, 512KiB or 8MiB, in ${formatBytes(min)}..${formatBytes(max)}`;
  const parse = (raw: string) => inRange(parseBytes(raw, expected), min, max, expected);
  checkDefault(name, opts.default, parse, String);
  return make(name, "bytes", expected, opts, parse, formatBytes);
}

const DURATION_US: Readonly<Record<string, number>> = {
  us: 1,
  µs: 1,
  ms: 1000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
  d: 86_400_000_000,
};
const DURATION = /^(\d+(?:_\d+)*)\s*(us|µs|ms|s|m|h|d)?$/;

type DurationUnit = "us" | "ms" | "s";

/** "250" (in `unit`), "500us", "250ms", "5s", "15m", "2h", "7d" → a whole number of `unit`; "1500ms" as seconds throws. */
export function parseDuration(
  raw: string,
  unit: DurationUnit,
  expected = `a duration like 250ms, 5s or 15m`,
): number {
  const match = DURATION.exec(raw.trim());
  if (!match) throw new ExpectedError(expected);
  const n = Number((match[1] ?? "").replaceAll("_", ""));
  // Scale by the whole ratio of the two units, never through µs: 10⁶ days in µs is past 2⁵³.
  const from = DURATION_US[match[2] ?? unit] ?? 1;
  const to = DURATION_US[unit] ?? 1;
  const value = from >= to ? n * (from / to) : n / (to / from);
  if (!Number.isSafeInteger(value)) throw new ExpectedError(expected);
  return value;
}

export function duration<D extends number | undefined>(
  name: string,
  opts: Common<D> & Range & { readonly unit: DurationUnit },
): Var<number | D> {
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const expected =
    opts.unit === "us"
      ? `a duration like 500us, 2ms or 1s (a bare number is µs), in ${min}..${max} µs`
      : `a duration like 250ms, 5s or 15m (a bare number is ${opts.unit}), in ${min}..${max} ${opts.unit}`;
  const parse = (raw: string) => inRange(parseDuration(raw, opts.unit, expected), min, max, expected);
  checkDefault(name, opts.default, parse, String);
  const show =
    opts.unit === "us"
      ? (v: number) => (v % 1000 === 0 ? `${v / 1000} ms` : `${v} µs`)
      : (v: number) => `${v} ${opts.unit}`;
  return make(name, "duration", expected, opts, parse, show);
}

/** Comma list, items trimmed, empty items dropped; `item` returns a complaint for a bad item. */
export function list<D extends readonly string[] | undefined>(
  name: string,
  opts: Common<D> & { readonly item?: (item: string) => string | undefined; readonly expected?: string },
): Var<readonly string[] | D> {
  const expected = opts.expected ?? "a comma-separated list";
  const parse = (raw: string): readonly string[] => {
    const items = raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const item of items) {
      const complaint = opts.item?.(item);
      if (complaint !== undefined)
        throw new ExpectedError(`${expected}; ${JSON.stringify(item)} is not ${complaint}`);
    }
    return Object.freeze(items);
  };
  const show = (v: readonly string[]) => (v.length === 0 ? "empty" : v.join(","));
  return make(name, "list", expected, opts, parse, show);
}

/** Anything else: `parse` throws ExpectedError (or returns) for the raw text. */
export function custom<T, D extends T | undefined>(
  name: string,
  opts: Common<D> & {
    readonly type?: VarType;
    readonly expected: string;
    readonly parse: (raw: string) => T;
    readonly show?: (value: T) => string;
  },
): Var<T | D> {
  return make(name, opts.type ?? "string", opts.expected, opts, opts.parse, opts.show ?? String);
}
