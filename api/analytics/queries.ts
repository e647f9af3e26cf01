// The analytics aggregations, in DuckDB over a loaded range (source.ts). Prices, sizes and sums stay exact
// DECIMALs and leave as strings; only statistics that are not money (volatility, log buckets) are floats.
import { type DuckDBConnection, type DuckDBDataChunk, DuckDBTypeId } from "@duckdb/node-api";

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number => Number(v ?? 0);
// µs since the epoch (a bucket start, whole seconds) as ISO 8601 with microseconds: "….000000Z".
const iso = (v: unknown): string => `${new Date(Number(v) / 1000).toISOString().slice(0, -1)}000Z`;

async function rows(duck: DuckDBConnection, q: string): Promise<unknown[][]> {
  return (await duck.runAndReadAll(q)).getRows();
}

/**
 * A query's result as DuckDB's data chunks, to be read column by column (`getColumnVector(i).getItem(row)`):
 * getRows builds an array per row and goes through a value converter per cell, which was ~15 of the ~35 ms of
 * reading and formatting a 1-day 1-minute OHLCV (12,960 rows × 12 columns).
 */
export async function chunks(duck: DuckDBConnection, q: string): Promise<DuckDBDataChunk[]> {
  const result = await duck.run(q);
  return Array.from({ length: result.chunkCount }, (_, i) => result.getChunk(i));
}

/** What @duckdb/node-api 1.5's integer vectors hold (their own fields; checked before use). */
interface RawVector {
  items?: unknown;
  dataView?: unknown;
  validity?: { data?: unknown; offset?: unknown };
}

const SMALL_INTEGERS = new Set<number>([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
]);
// 2³², and 2²¹: a high 32-bit word in [−2²¹, 2²¹) makes a 64-bit value safe as a number (|v| < 2⁵³).
const WORD = 4294967296;
const SAFE_HIGH = 2097152;

/** 32-bit words over a typed array's bytes, or null where they would not be aligned. */
function words(v: ArrayBufferView, count: number): [Uint32Array, Int32Array] | null {
  if (v.byteOffset % 4 !== 0 || v.byteLength < count * 4) return null;
  return [new Uint32Array(v.buffer, v.byteOffset, count), new Int32Array(v.buffer, v.byteOffset, count)];
}

/**
 * Column `index` of a chunk as a function of the row, for integer columns: getItem's value as a number where it
 * is a safe integer, as a bigint where it is not, null where the validity mask says so (String() of either is
 * the same text). getItem tests each row's validity bit with BigInt operations and makes a BigInt of every
 * 64- and 128-bit value (~100 ns a value, more than the formatting it feeds: 12,960 rows × 12 columns a 1-day
 * request); where the vector holds its typed array (or HUGEINT's DataView) and validity words as
 * @duckdb/node-api 1.5 does, the rows are read from their 32-bit words with number operations. Any other
 * vector or type: getItem.
 */
export function integerColumn(chunk: DuckDBDataChunk, index: number): (row: number) => unknown {
  const vector = chunk.getColumnVector(index);
  const raw = vector as unknown as RawVector;
  const mask = raw.validity?.data;
  const rows = chunk.rowCount;
  const fallback = (row: number) => vector.getItem(row);
  if (raw.validity?.offset !== 0 || !(mask === null || mask instanceof BigUint64Array)) return fallback;
  // Bit r of the mask is bit r % 8 of byte r >> 3 (little-endian 64-bit words); no mask: every row valid.
  const bits = mask && new Uint8Array(mask.buffer, mask.byteOffset, mask.byteLength);
  const valid = bits ? (row: number) => ((bits[row >> 3] ?? 0) >> (row & 7)) & 1 : () => 1;
  const id = vector.type.typeId;
  const items = raw.items;
  if (SMALL_INTEGERS.has(id) && ArrayBuffer.isView(items) && !(items instanceof DataView)) {
    const array = items as unknown as ArrayLike<number>;
    if (array.length < rows) return fallback;
    return (row) => (valid(row) ? array[row] : null);
  }
  if (id === DuckDBTypeId.BIGINT && items instanceof BigInt64Array) {
    const w = words(items, rows * 2);
    if (!w) return fallback;
    const [u, s] = w;
    return (row) => {
      if (!valid(row)) return null;
      const high = s[2 * row + 1] ?? 0;
      return high >= -SAFE_HIGH && high < SAFE_HIGH ? high * WORD + (u[2 * row] ?? 0) : items[row];
    };
  }
  if (id === DuckDBTypeId.UBIGINT && items instanceof BigUint64Array) {
    const w = words(items, rows * 2);
    if (!w) return fallback;
    const [u] = w;
    return (row) => {
      if (!valid(row)) return null;
      const high = u[2 * row + 1] ?? 0;
      return high < SAFE_HIGH ? high * WORD + (u[2 * row] ?? 0) : items[row];
    };
  }
  const view = raw.dataView;
  if (id === DuckDBTypeId.HUGEINT && view instanceof DataView) {
    const w = words(view, rows * 4);
    if (!w) return fallback;
    const [u, s] = w;
    return (row) => {
      if (!valid(row)) return null;
      const at = 4 * row;
      // Safe: the upper 64 bits all 0 (all 1) and the next word's value in [0, 2²¹) ([−2²¹, 0)).
      const top = s[at + 3] ?? 0;
      const high = s[at + 1] ?? 0;
      if (
        top === (s[at + 2] ?? 0) &&
        (top === 0 ? high >= 0 : top === -1 && high < 0) &&
        high >= -SAFE_HIGH &&
        high < SAFE_HIGH
      )
        return high * WORD + (u[at] ?? 0);
      return (view.getBigInt64(at * 4 + 8, true) << 64n) + view.getBigUint64(at * 4, true);
    };
  }
  return fallback;
}

/**
 * The aggregations work on the stored INT64 mantissas, not on the view's DECIMAL(38) columns: DuckDB does
 * BIGINT maths natively where every DECIMAL(38) value is a HUGEINT built through a CASE per row. A mantissa is
 * shifted to the view's common scale (× 10^(scale − decimals)) only where values of different decimals meet.
 */
const shift = (decimals: string, scale: number, type = "HUGEINT") =>
  `(CASE ${decimals} ${Array.from({ length: scale + 1 }, (_, d) => `WHEN ${d} THEN 1${"0".repeat(scale - d)}::${type}`).join(" ")} END)`;

/** An integer count of 10^-scale units as exact decimal text (what a DECIMAL(38, scale)::VARCHAR reads). */
export function unitsText(v: unknown, scale: number): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v);
  const neg = s.startsWith("-");
  const digits = (neg ? s.slice(1) : s).padStart(scale + 1, "0");
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${text}` : text;
}

/**
 * unitsText + trimDecimal in one pass, for an integer (bigint or safe number) count of 10^-scale units: the same
 * text without the regular expressions and intermediate strings (12,960 buckets × 5 values per 1-day request).
 */
export function unitsDecimal(v: unknown, scale: number): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number" && scale > 0 && scale < 16) {
    // One correctly rounded division and the engine's shortest number text: for |v| < 10¹⁵ the exact quotient
    // has at most 15 significant digits, the one decimal that short rounding to its double, so the text is the
    // exact trimmed decimal; JavaScript writes it without an exponent from 10⁻⁶ up. ~4x cheaper than slicing.
    const a = Math.abs(v);
    const p = POW10_NUMBER[scale] as number;
    if (a < 1e15 && (a === 0 || a * 1e6 >= p)) return String(v / p);
  }
  const s = String(v);
  if (scale === 0) return s;
  const neg = s.charCodeAt(0) === 45;
  const digits = neg ? s.slice(1) : s;
  // Trailing zeros among the last `scale` digits are fractional zeros: drop them.
  let end = digits.length;
  const fracStart = digits.length - scale;
  while (end > fracStart && end > 0 && digits.charCodeAt(end - 1) === 48) end--;
  let text: string;
  if (fracStart > 0) {
    text =
      end > fracStart
        ? `${digits.slice(0, fracStart)}.${digits.slice(fracStart, end)}`
        : digits.slice(0, fracStart);
  } else {
    // |v| < 1: "0." and the leading zeros the digits lack.
    text = end > 0 ? `0.${"0".repeat(-fracStart)}${digits.slice(0, end)}` : "0";
  }
  return neg && text !== "0" ? `-${text}` : text;
}

const POW10_NUMBER = Array.from({ length: 16 }, (_, n) => 10 ** n);
const POW10: bigint[] = [];
const pow10 = (n: number) => {
  let p = POW10[n];
  if (p === undefined) POW10[n] = p = 10n ** BigInt(n);
  return p;
};

/**
 * divideDecimal(unitsText(a, aScale), unitsText(b, bScale), places) on the integer units themselves: a / b rounded
 * half away from zero to `places`, trimmed; null when b is 0. One BigInt division instead of string round trips.
 */
export function divideUnits(
  a: bigint | number,
  aScale: number,
  b: bigint | number,
  bScale: number,
  places: number,
): string | null {
  if (typeof a === "number" && typeof b === "number" && b !== 0 && aScale >= bScale && aScale - bScale < 16) {
    const text = divideNumbers(a, b * (POW10_NUMBER[aScale - bScale] as number), places);
    if (text !== null) return text;
  }
  const num = BigInt(a);
  const den = BigInt(b);
  if (den === 0n) return null;
  // (a / 10^aScale) / (b / 10^bScale) · 10^(places + 1) = a · 10^(bScale + places + 1 − aScale) / b.
  const k = bScale + places + 1 - aScale;
  const an = num < 0n ? -num : num;
  const bn = den < 0n ? -den : den;
  const q = k >= 0 ? (an * pow10(k)) / bn : an / (bn * pow10(-k));
  const rounded = (q + 5n) / 10n;
  const text = unitsDecimal(rounded, places) ?? "0";
  return rounded !== 0n && num < 0n !== den < 0n ? `-${text}` : text;
}

/** The remainder nextDigits leaves (a second result without an allocation a step). */
let digitsRest = 0;

/**
 * One step of divideNumbers' long division: the next `step` digits of r / dn (r < dn), exact where dn · 10^step
 * ≤ 2⁵² (Math.floor may be one off either way; the remainder's sign and size correct it); the remainder goes to
 * digitsRest.
 */
function nextDigits(r: number, dn: number, step: number): number {
  const x = r * (POW10_NUMBER[step] as number);
  let q = Math.floor(x / dn);
  let rest = x - q * dn;
  if (rest < 0) {
    q--;
    rest += dn;
  } else if (rest >= dn) {
    q++;
    rest -= dn;
  }
  digitsRest = rest;
  return q;
}

/**
 * a / d rounded half away from zero to `places`, trimmed, by long division in exact number arithmetic (every
 * operand and product an integer at most 2⁵³), or null where that does not hold: divideUnits without BigInts
 * (~5x cheaper; a 1-day request divides 12,960 times). The digits come k at a time, k the most with
 * d · 10^k ≤ 2⁵² (so a quotient digit one too high still gives an exact product; a VWAP's divisor is ~10⁹–10¹¹:
 * 4–6 digits a step instead of one); the remainder after the last digit rounds (2r ≥ d: half or more).
 */
function divideNumbers(a: number, d: number, places: number): string | null {
  const an = Math.abs(a);
  const dn = Math.abs(d);
  if (!(an <= 2 ** 52 && dn > 0 && dn < 2 ** 49 && places <= 30)) return null;
  let whole = Math.floor(an / dn);
  let r = an - whole * dn;
  if (r < 0) {
    whole--;
    r += dn;
  } else if (r >= dn) {
    whole++;
    r -= dn;
  }
  let k = 1;
  while (k < 15 && dn * (POW10_NUMBER[k + 1] as number) <= 2 ** 52) k++;
  if (places <= 15) {
    // The whole fraction as one integer f < 10^places ≤ 10¹⁵ (exact in a number): one text for it instead of one
    // padded text a chunk (a VWAP's 13 places: three chunks).
    let f = 0;
    for (let left = places; left > 0; ) {
      const step = Math.min(left, k);
      f = f * (POW10_NUMBER[step] as number) + nextDigits(r, dn, step);
      r = digitsRest;
      left -= step;
    }
    if (2 * r >= dn && ++f === POW10_NUMBER[places]) {
      f = 0;
      whole++;
    }
    if (f === 0) return whole !== 0 && a < 0 !== d < 0 ? `-${whole}` : String(whole);
    let width = places;
    while (f % 10 === 0) {
      f /= 10;
      width--;
    }
    const digits = String(f);
    const text = `${whole}.${digits.length < width ? "0".repeat(width - digits.length) : ""}${digits}`;
    return a < 0 !== d < 0 ? `-${text}` : text;
  }
  const chunks = CHUNK_SCRATCH;
  const widths = WIDTH_SCRATCH;
  let n = 0;
  for (let left = places; left > 0; n++) {
    const step = Math.min(left, k);
    chunks[n] = nextDigits(r, dn, step);
    widths[n] = step;
    r = digitsRest;
    left -= step;
  }
  if (2 * r >= dn) {
    let i = n - 1;
    for (; i >= 0; i--) {
      const up = (chunks[i] as number) + 1;
      if (up < (POW10_NUMBER[widths[i] as number] as number)) {
        chunks[i] = up;
        break;
      }
      chunks[i] = 0;
    }
    if (i < 0) whole++;
  }
  // Trailing zero chunks, then the last one's trailing zeros, are dropped.
  while (n > 0 && chunks[n - 1] === 0) n--;
  let text = String(whole);
  if (n > 0) {
    text += ".";
    for (let i = 0; i < n - 1; i++) text += String(chunks[i]).padStart(widths[i] as number, "0");
    let last = chunks[n - 1] as number;
    let width = widths[n - 1] as number;
    while (last % 10 === 0) {
      last /= 10;
      width--;
    }
    text += String(last).padStart(width, "0");
  }
  return (whole !== 0 || n > 0) && a < 0 !== d < 0 ? `-${text}` : text;
}
const CHUNK_SCRATCH = new Array<number>(31).fill(0);
const WIDTH_SCRATCH = new Array<number>(31).fill(0);

/**
 * time_bucket(INTERVAL 'seconds', time) on epoch µs: floor((t − origin) / width) · width + origin, origin
 * 2000-01-03 00:00 UTC (time_bucket's own). Integer maths: time_bucket on TIMESTAMPTZ goes through ICU per row.
 */
export function bucketUs(timeCol: string, seconds: number): string {
  const w = Math.trunc(seconds) * 1_000_000;
  const origin = Date.UTC(2000, 0, 3) * 1000;
  return `(${origin} + ((epoch_us(${timeCol}) - ${origin}) - (((epoch_us(${timeCol}) - ${origin}) % ${w}) + ${w}) % ${w}))`;
}

/** Order by (time, trade_id) as one HUGEINT key, for arg_min / arg_max. */
const timeIdKey = "(epoch_us(time)::HUGEINT * 18446744073709551616 + trade_id)";

/** Trim a DECIMAL's text to what it means: no trailing fractional zeros. */
export function trimDecimal(s: string | null): string | null {
  if (s === null || !s.includes(".")) return s;
  const t = s.replace(/0+$/, "");
  return t.endsWith(".") ? t.slice(0, -1) : t;
}

/** Exact a / b rounded half away from zero to `places`, on decimal strings. */
export function divideDecimal(a: string, b: string, places: number): string | null {
  const scale = (s: string) => (s.includes(".") ? (s.split(".")[1] ?? "").length : 0);
  const big = (s: string) => BigInt(s.replace(".", ""));
  const den = big(b);
  if (den === 0n) return null;
  // a/10^sa ÷ b/10^sb = (a·10^sb) / (b·10^sa); scale the numerator for `places` digits (+1 to round).
  const num = big(a) * 10n ** BigInt(scale(b) + places + 1);
  const q = num / (den * 10n ** BigInt(scale(a)));
  const neg = q < 0n;
  const abs = neg ? -q : q;
  const rounded = (abs + 5n) / 10n;
  const digits = rounded.toString().padStart(places + 1, "0");
  const text = places ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return trimDecimal(`${neg && rounded !== 0n ? "-" : ""}${text}`);
}

export interface OhlcvRow {
  exchange: number;
  instrumentId: number;
  time: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  vwap: string | null;
  trades: number;
}

/**
 * What a loaded range already knows: bounds of its trade ids (null: unknown), its start, and the one price and
 * size decimals of all its rows (null or absent: unknown, or several).
 */
export interface KnownBounds {
  ids: { lo: bigint; hi: bigint } | null;
  from: Date;
  decimals?: { price: number; size: number } | null;
}

/** OHLCV and VWAP per bucket; `seconds` is the bucket length; `scales` are the view's DECIMAL scales. */
export async function ohlcv(
  duck: DuckDBConnection,
  view: string,
  seconds: number,
  vwapPlaces: number,
  scales: { price: number; size: number },
  known?: KnownBounds,
): Promise<OhlcvRow[]> {
  const { price: ps, size: ss } = scales;
  // Per bucket and decimals on the raw mantissas: first/last by (time, trade_id), like first(price ORDER BY time,
  // trade_id). Σ price·size multiplies in BIGINT where both mantissas are below √2⁶³ (the product fits; sum()
  // accumulates in HUGEINT) and in HUGEINT only for the others: a HUGEINT product per row cost ~40 ns of the
  // ~270 ns a trade took.
  const small =
    "(price_mantissa BETWEEN -3037000499 AND 3037000499 AND size_mantissa BETWEEN -3037000499 AND 3037000499)";
  const perDecimals = (keys: string) => `SELECT exchange, instrument_id, ${bucketUs("time", seconds)} AS b,
       price_decimals AS pd, size_decimals AS sd, arg_min(price_mantissa, ${timeIdKey}) AS o, max(price_mantissa) AS h,
       min(price_mantissa) AS l, arg_max(price_mantissa, ${timeIdKey}) AS c, sum(size_mantissa) AS v,
       coalesce(sum(CASE WHEN ${small} THEN price_mantissa * size_mantissa END), 0)
         + coalesce(sum(CASE WHEN NOT ${small} THEN price_mantissa::HUGEINT * size_mantissa END), 0) AS pv,
       count(*)::BIGINT AS n${keys}
     FROM ${view} GROUP BY ALL`;
  // The decimals are an instrument's, constant in practice: then each bucket is one row of that aggregation,
  // formatted at its own decimals (decimal text does not depend on the scale it was computed at).
  const single =
    (await packedOhlcv(duck, view, seconds, known)) ??
    (await chunks(duck, `${perDecimals("")} ORDER BY b, exchange, instrument_id`));
  const out =
    ohlcvRows(single, vwapPlaces) ??
    // A bucket with trades at different decimals (the instrument's decimals changed in it): across decimals at
    // the common scale, first/last by the same (time, trade_id) key.
    ohlcvRows(
      await chunks(
        duck,
        `WITH g AS (${perDecimals(`, min(${timeIdKey}) AS ok, max(${timeIdKey}) AS ck`)})
       SELECT exchange, instrument_id, b, ${ps}, ${ss}, arg_min(o * ${shift("pd", ps)}, ok), max(h * ${shift("pd", ps)}),
         min(l * ${shift("pd", ps)}), arg_max(c * ${shift("pd", ps)}, ck), sum(v * ${shift("sd", ss)}),
         sum(pv * ${shift("pd + sd", ps + ss)}), sum(n)::BIGINT
       FROM g GROUP BY ALL ORDER BY b, exchange, instrument_id`,
      ),
      vwapPlaces,
    );
  if (!out) throw new Error("OHLCV: a bucket repeated in the query at the common scale");
  return out;
}

/**
 * The rows of an OHLCV aggregation (exchange, instrument_id, b, pd, sd, o, h, l, c, v, pv, n; ordered by b,
 * exchange, instrument_id), formatted at each row's decimals; null when a bucket appears twice (two decimals in
 * it). Read column by column from the chunks; a bucket's time text is made once for the rows that share it.
 */
export function ohlcvRows(parts: DuckDBDataChunk[], vwapPlaces: number): OhlcvRow[] | null {
  const out: OhlcvRow[] = [];
  let lastB: unknown = null;
  let lastTime = "";
  let lastExchange = Number.NaN;
  let lastInstrument = Number.NaN;
  for (const chunk of parts) {
    const col = (i: number) => integerColumn(chunk, i);
    const [ex, ins, b, pdv, sdv] = [col(0), col(1), col(2), col(3), col(4)] as const;
    const [o, h, l, c, v, pv, n] = [col(5), col(6), col(7), col(8), col(9), col(10), col(11)] as const;
    const count = chunk.rowCount;
    for (let i = 0; i < count; i++) {
      const exchange = num(ex(i));
      const instrumentId = num(ins(i));
      const bucket = b(i);
      if (bucket !== lastB) {
        lastB = bucket;
        lastTime = iso(bucket);
      } else if (exchange === lastExchange && instrumentId === lastInstrument) return null;
      lastExchange = exchange;
      lastInstrument = instrumentId;
      const pd = num(pdv(i));
      const sd = num(sdv(i));
      const volume = v(i) ?? 0;
      out.push({
        exchange,
        instrumentId,
        time: lastTime,
        open: unitsDecimal(o(i), pd) ?? "0",
        high: unitsDecimal(h(i), pd) ?? "0",
        low: unitsDecimal(l(i), pd) ?? "0",
        close: unitsDecimal(c(i), pd) ?? "0",
        volume: unitsDecimal(volume, sd) ?? "0",
        vwap: divideUnits((pv(i) ?? 0) as bigint, pd + sd, volume as bigint, sd, vwapPlaces),
        trades: num(n(i)),
      });
    }
  }
  return out;
}

/**
 * perDecimals's aggregation with cheaper keys and products, or null where they do not apply. Building the
 * HUGEINT (time, trade_id) key was ~50 ns of a trade's CPU and the product's range CASE ~15: here the key is one
 * BIGINT, (time − bucket start) · M + (trade_id − lo), which orders a bucket's trades by (time, trade_id) as long
 * as the range's trade ids span less than M = ⌊(2⁶³ − 1) / bucket width in µs⌋ (1-minute buckets: 1.5·10¹¹,
 * 1-day: 1.07·10⁸). lo and the span come from one scan of the ids before the aggregation, so the choice is made
 * up front: exchange ids in the billions (Binance, Coinbase) take the fast path when their span fits, and a range
 * whose span does not goes straight to the exact query instead of running both. Σ price·size multiplies in
 * BIGINT, which DuckDB checks: a product past 2⁶³ raises an overflow error instead of wrapping, and the exact
 * query runs.
 */
export async function packedOhlcv(
  duck: DuckDBConnection,
  view: string,
  seconds: number,
  known?: KnownBounds,
): Promise<DuckDBDataChunk[] | null> {
  const width = Math.trunc(seconds) * 1_000_000;
  const m = (2n ** 63n - 1n) / BigInt(width);
  // For times after time_bucket's origin, floor((t − origin) / width) is a plain % of a non-negative number:
  // one modulo per trade instead of bucketUs's two. A bucket at or before the origin (the only place where the
  // plain % differs) sends the request to the exact query.
  const origin = Date.UTC(2000, 0, 3) * 1000;
  // A width that divides the origin's µs (every whole number of minutes, hours, days: the origin is a midnight)
  // has the same remainder for t as for t − origin: one subtraction a trade less.
  const offset =
    origin % width === 0 ? `(epoch_us(time) % ${width})` : `((epoch_us(time) - ${origin}) % ${width})`;
  const b = `(epoch_us(time) - ${offset})`;
  let lo: bigint;
  let hi: bigint;
  let earliest: bigint;
  if (known?.ids) {
    // The range's bounds, known without a scan (the files' statistics): a superset is enough.
    ({ lo, hi } = known.ids);
    earliest = BigInt(known.from.getTime()) * 1000n;
  } else {
    const [bounds] = await rows(
      duck,
      `SELECT min(trade_id)::HUGEINT, max(trade_id)::HUGEINT, min(epoch_us(time)) FROM ${view}`,
    );
    if (!bounds || bounds[0] === null) return null;
    [lo, hi, earliest] = [
      BigInt(bounds[0] as bigint),
      BigInt(bounds[1] as bigint),
      BigInt(bounds[2] as bigint),
    ];
  }
  // A bucket at or before the origin, or ids spanning M or more: the exact query.
  if (hi - lo >= m || earliest <= BigInt(origin) + BigInt(width)) return null;
  // Ids in [0, m): offset · (hi + 1) + trade_id is the same order without subtracting lo from every id (its
  // largest value, width · (hi + 1) − 1, fits since hi + 1 ≤ m).
  const key =
    lo >= 0n && hi < m
      ? `(${offset} * ${hi + 1n} + trade_id::BIGINT)`
      : `(${offset} * ${m} + (trade_id::BIGINT - ${lo}))`;
  // Decimals known to be one price and one size decimals for every row (the files' statistics): constants, not
  // two more grouping keys per trade (~2 of the 1-day request's ~18 ms of aggregation).
  const d = known?.decimals;
  const fixed = d && Number.isInteger(d.price) && Number.isInteger(d.size) ? d : null;
  const decimals = fixed
    ? `${fixed.price}::SMALLINT AS pd, ${fixed.size}::SMALLINT AS sd`
    : "price_decimals AS pd, size_decimals AS sd";
  const groups = fixed ? "exchange, instrument_id, b" : "ALL";
  try {
    return await chunks(
      duck,
      `SELECT exchange, instrument_id, ${b} AS b, ${decimals},
         arg_min(price_mantissa, ${key}) AS o, max(price_mantissa) AS h, min(price_mantissa) AS l,
         arg_max(price_mantissa, ${key}) AS c, sum(size_mantissa) AS v, sum(price_mantissa * size_mantissa) AS pv,
         count(*)::BIGINT AS n
       FROM ${view} GROUP BY ${groups} ORDER BY b, exchange, instrument_id`,
    );
  } catch (error) {
    if (/overflow|out of range/i.test(String(error))) return null;
    throw error;
  }
}

export interface VolatilityRow {
  exchange: number;
  instrumentId: number;
  /** Returns used (bucket closes after the first). */
  returns: number;
  /** sqrt(Σ r²) of log returns between bucket closes, over the whole range. */
  realized: number;
  /** Scaled to one year of buckets (√(buckets per year) · stdev). */
  annualized: number;
}

export async function realizedVolatility(
  duck: DuckDBConnection,
  view: string,
  seconds: number,
): Promise<VolatilityRow[]> {
  const perYear = (365 * 86_400) / seconds;
  const out = await rows(
    duck,
    `WITH closes AS (
       SELECT exchange, instrument_id, time_bucket(INTERVAL '${Math.trunc(seconds)} seconds', time) AS b,
         last(price ORDER BY time, trade_id)::DOUBLE AS c FROM ${view} GROUP BY ALL),
     r AS (SELECT exchange, instrument_id, ln(c / lag(c) OVER (PARTITION BY exchange, instrument_id ORDER BY b)) AS lr FROM closes)
     SELECT exchange, instrument_id, count(lr)::BIGINT, coalesce(sqrt(sum(lr * lr)), 0), coalesce(stddev_samp(lr), 0)
     FROM r GROUP BY ALL ORDER BY exchange, instrument_id`,
  );
  return out.map((r) => ({
    exchange: num(r[0]),
    instrumentId: num(r[1]),
    returns: num(r[2]),
    realized: num(r[3]),
    annualized: num(r[4]) * Math.sqrt(perYear),
  }));
}

export interface SpreadRow {
  /** An exchange name, or "cross" for best ask anywhere minus best bid anywhere at the same second. */
  scope: number | "cross";
  instrumentId: number;
  samples: number;
  p50: string | null;
  p90: string | null;
  p99: string | null;
  min: string | null;
  max: string | null;
}

/**
 * Spread percentiles from book tops, per exchange and across exchanges (1-second alignment).
 *
 * Per exchange: a histogram of ask − bid on the raw mantissas per price decimals (spreads take few distinct
 * values), brought to the common scale and summed up in TypeScript (exact bigints), where the percentiles are
 * read off. It also says which instruments have tops from two exchanges or more and at which decimals.
 *
 * Cross-exchange: per instrument and second, the best ask minus the best bid among each exchange's last top in
 * that second. Most (instrument, second) groups hold one top per exchange; there the last top is the only one,
 * and one aggregation over the tops gives the spread directly. A group is known to be such when the number of
 * distinct `exchange & 63` bits equals its row count (a collision of two exchanges on one bit only sends the
 * group to the exact path). Where an instrument has one price decimals over the range (in practice always), that
 * aggregation runs on the raw mantissas (no scaling per top) and is all there is: a histogram of its spreads and
 * a count of the groups that are not such. Given the range as one SELECT per UTC day (`days`, source.ts), each
 * day is grouped alone, on one thread, the days side by side (each day's own table of seconds, not one for the
 * week; a second never spans two days). Only if some group has several tops of one exchange, or an
 * instrument's decimals vary, does the exact statement (exactCross) run.
 */
export async function spreadStats(
  duck: DuckDBConnection,
  view: string,
  priceScale: number,
  range?: { from: Date; to: Date },
  days?: readonly string[] | null,
  priceDecimals?: number | null,
): Promise<SpreadRow[]> {
  const present = "ask_price_mantissa IS NOT NULL AND bid_price_mantissa IS NOT NULL";
  // Every row's price decimals known (the files' statistics, LoadedRange.decimals): a constant, not a grouping
  // key (the histogram 0.87x).
  const known = Number.isSafeInteger(priceDecimals);
  const hist = await rows(
    duck,
    `SELECT exchange, instrument_id, ${known ? `${priceDecimals}::SMALLINT` : "price_decimals"},
       ask_price_mantissa - bid_price_mantissa, count(*)::BIGINT
     FROM ${view} WHERE ${present} GROUP BY 1, 2, ${known ? "" : "3, "}4`,
  );
  // Decimals outside [0, priceScale] (not the registry's): the statements that scale in SQL, as they always did.
  if (hist.some((r) => r[2] === null || num(r[2]) < 0 || num(r[2]) > priceScale))
    return exactSpreads(duck, view, priceScale, range);
  const perPair = new Map<string, { exchange: number; instrumentId: number; bins: Map<bigint, number> }>();
  const decimalsOf = new Map<number, Set<number>>();
  const exchangesOf = new Map<number, Set<number>>();
  for (const r of hist) {
    const [exchange, instrumentId, pd] = [num(r[0]), num(r[1]), num(r[2])];
    const key = `${exchange} ${instrumentId}`;
    let pair = perPair.get(key);
    if (!pair) {
      pair = { exchange, instrumentId, bins: new Map() };
      perPair.set(key, pair);
    }
    const x = BigInt(r[3] as bigint) * pow10(priceScale - pd);
    pair.bins.set(x, (pair.bins.get(x) ?? 0) + num(r[4]));
    decimalsOf.set(instrumentId, (decimalsOf.get(instrumentId) ?? new Set()).add(pd));
    exchangesOf.set(instrumentId, (exchangesOf.get(instrumentId) ?? new Set()).add(exchange));
  }
  const dec = (v: bigint | null) => (v === null ? null : unitsDecimal(v, priceScale));
  const shape = (scope: number | "cross", instrumentId: number, bins: Map<bigint, number>): SpreadRow => {
    const p = percentilesOf(bins);
    return {
      scope,
      instrumentId,
      samples: p.n,
      p50: dec(p.p50),
      p90: dec(p.p90),
      p99: dec(p.p99),
      min: dec(p.min),
      max: dec(p.max),
    };
  };
  const out = [...perPair.values()]
    .sort((a, b) => a.exchange - b.exchange || a.instrumentId - b.instrumentId)
    .map((p) => shape(p.exchange, p.instrumentId, p.bins));
  // Only an instrument with tops from two exchanges or more in the range has a second with several exchanges:
  // the per-second grouping (the costly part: one group per instrument and second) reads only those.
  const several = [...exchangesOf]
    .filter(([, e]) => e.size > 1)
    .map(([id]) => Math.trunc(id))
    .sort((a, b) => a - b);
  if (!several.length) return out;
  const cross = several.every((id) => decimalsOf.get(id)?.size === 1)
    ? await fastCross(duck, view, present, several, range, days)
    : null;
  if (cross) {
    for (const id of several) {
      const pd = [...(decimalsOf.get(id) ?? [])][0] ?? priceScale;
      const bins = new Map<bigint, number>();
      for (const [x, k] of cross.get(id) ?? []) bins.set(x * pow10(priceScale - pd), k);
      if (bins.size) out.push(shape("cross", id, bins));
    }
    return out;
  }
  const exact = await exactCross(duck, view, priceScale, present, several, range);
  return [...out, ...exact.map((r) => shapeRow("cross", r, priceScale))];
}

/** The second of a top: a plain integer division where every time is after 1970 (a floor there), else bucketUs's floor. */
const secondOf = (range?: { from: Date }) =>
  range && range.from.getTime() >= 0 ? "epoch_us(time) // 1000000" : bucketUs("time", 1);

/**
 * The cross-exchange spreads' histogram per instrument on raw mantissas (each instrument at one decimals), in
 * mantissa units; null when a second holds several tops of one exchange (the exact path's case).
 */
async function fastCross(
  duck: DuckDBConnection,
  view: string,
  present: string,
  several: number[],
  range?: { from: Date; to: Date },
  days?: readonly string[] | null,
): Promise<Map<number, Map<bigint, number>> | null> {
  const slices = days?.length ? days : [`SELECT * FROM ${view}`];
  // Several slices: each day's grouping on one thread (a LIMIT that drops nothing is a non-parallel streaming
  // limit while DuckDB preserves insertion order, its default), the days side by side. A day's files are one
  // row group each, so a parallel scan gives each thread one exchange's file and both threads build a table of
  // every second of the day, combined after: twice the hash work (the week's request: 0.81x wall and CPU).
  const oneThread = slices.length > 1 ? ` LIMIT ${2n ** 63n - 1n}` : "";
  const perSecond = (
    from: string,
  ) => `SELECT instrument_id, x, count(*) AS k, count(*) FILTER (WHERE NOT once) AS bad
    FROM (SELECT instrument_id, min(ask) - max(bid) AS x, count(*) AS n,
        bit_count(bit_or(1::UBIGINT << (exchange & 63)::UBIGINT)) = count(*) AS once
      FROM (SELECT instrument_id, exchange, ${secondOf(range)} AS s, ask_price_mantissa AS ask, bid_price_mantissa AS bid
        FROM (${from}) WHERE ${present} AND instrument_id IN (${several.join(", ")})${oneThread})
      GROUP BY instrument_id, s)
    WHERE n > 1 GROUP BY ALL`;
  const got = await rows(
    duck,
    `SELECT instrument_id, x, sum(k)::BIGINT, sum(bad)::BIGINT FROM (${slices.map(perSecond).join(" UNION ALL ")}) GROUP BY ALL`,
  );
  const out = new Map<number, Map<bigint, number>>();
  for (const r of got) {
    if (num(r[3]) > 0) return null;
    const id = num(r[0]);
    let bins = out.get(id);
    if (!bins) {
      bins = new Map();
      out.set(id, bins);
    }
    bins.set(BigInt(r[1] as bigint), num(r[2]));
  }
  return out;
}

/** count, p50, p90, p99, min and max of a histogram (value → count), as percentiles() computes them. */
export function percentilesOf(bins: Map<bigint, number>): {
  n: number;
  p50: bigint | null;
  p90: bigint | null;
  p99: bigint | null;
  min: bigint | null;
  max: bigint | null;
} {
  const xs = [...bins.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let n = 0;
  for (const k of bins.values()) n += k;
  const at = [50, 90, 99].map(() => null as bigint | null);
  let cum = 0;
  for (const x of xs) {
    cum += bins.get(x) ?? 0;
    [50, 90, 99].forEach((p, i) => {
      if (at[i] === null && cum * 100 >= n * p) at[i] = x;
    });
  }
  return {
    n,
    p50: at[0] ?? null,
    p90: at[1] ?? null,
    p99: at[2] ?? null,
    min: xs[0] ?? null,
    max: xs.at(-1) ?? null,
  };
}

const shapeRow = (scope: number | "cross", r: unknown[], priceScale: number): SpreadRow => {
  const dec = (v: unknown) => unitsDecimal(v, priceScale);
  return {
    scope,
    instrumentId: num(r[0]),
    samples: num(r[1]),
    p50: dec(r[2]),
    p90: dec(r[3]),
    p99: dec(r[4]),
    min: dec(r[5]),
    max: dec(r[6]),
  };
};

/** The cross-exchange statement at the common scale, exact whatever the tops and decimals. */
async function exactCross(
  duck: DuckDBConnection,
  view: string,
  priceScale: number,
  present: string,
  several: number[],
  range?: { from: Date; to: Date },
): Promise<unknown[][]> {
  const units = (m: string) => `${m} * ${shift("price_decimals", priceScale, "BIGINT")}`;
  const tops = `SELECT exchange, instrument_id, ${secondOf(range)} AS b, time,
        ${units("bid_price_mantissa")} AS bid, ${units("ask_price_mantissa")} AS ask FROM ${view}
        WHERE ${present} AND instrument_id IN (${several.join(", ")})`;
  return rows(
    duck,
    percentiles(
      `WITH t AS (${tops}),
      g AS (SELECT instrument_id, b, min(ask) AS ask, max(bid) AS bid, count(*) AS n,
        bit_count(bit_or(1::UBIGINT << (exchange & 63)::UBIGINT)) = count(*) AS once FROM t GROUP BY ALL),
      s AS (SELECT instrument_id, b, exchange, arg_max(bid, time) AS bid, arg_max(ask, time) AS ask FROM t
        SEMI JOIN (SELECT instrument_id, b FROM g WHERE NOT once) d USING (instrument_id, b) GROUP BY ALL),
      x AS (SELECT instrument_id, ask - bid AS spread, n FROM g WHERE once
        UNION ALL SELECT instrument_id, min(ask) - max(bid), count(*) FROM s GROUP BY instrument_id, b)
     SELECT instrument_id, spread AS x, count(*) AS k FROM x WHERE n > 1 GROUP BY ALL`,
      "instrument_id",
    ),
  );
}

/** Both parts in SQL at the common scale (decimals outside the registry's included). */
async function exactSpreads(
  duck: DuckDBConnection,
  view: string,
  priceScale: number,
  range?: { from: Date; to: Date },
): Promise<SpreadRow[]> {
  const present = "ask_price_mantissa IS NOT NULL AND bid_price_mantissa IS NOT NULL";
  const perExchange = await rows(
    duck,
    percentiles(
      `SELECT exchange, instrument_id, x * ${shift("pd", priceScale, "BIGINT")} AS x, sum(k) AS k FROM (
         SELECT exchange, instrument_id, price_decimals AS pd, ask_price_mantissa - bid_price_mantissa AS x, count(*) AS k
         FROM ${view} WHERE ${present} GROUP BY ALL) GROUP BY ALL`,
      "exchange, instrument_id",
    ),
  );
  const exchangesOf = new Map<number, number>();
  for (const r of perExchange) exchangesOf.set(num(r[1]), (exchangesOf.get(num(r[1])) ?? 0) + 1);
  const several = [...exchangesOf].filter(([, n]) => n > 1).map(([id]) => Math.trunc(id));
  const cross = several.length ? await exactCross(duck, view, priceScale, present, several, range) : [];
  return [
    ...perExchange.map((r) => shapeRow(num(r[0]), r.slice(1), priceScale)),
    ...cross.map((r) => shapeRow("cross", r, priceScale)),
  ];
}

/**
 * count, p50, p90, p99, min and max per `keys` from a histogram (`keys`, x, k: k values equal to x), ordered by
 * `keys`. The percentiles are percentile_disc's (and quantile_disc's): the smallest x whose cumulative count
 * reaches max(1, ⌈n·p⌉), i.e. cum ≥ n·p in integers.
 */
function percentiles(histogram: string, keys: string): string {
  const at = (p: number) => `min(x) FILTER (WHERE cum * 100 >= n * ${p})`;
  return `WITH h AS (${histogram}),
    c AS (SELECT ${keys}, x, sum(k) OVER (PARTITION BY ${keys} ORDER BY x ROWS UNBOUNDED PRECEDING) AS cum,
      sum(k) OVER (PARTITION BY ${keys}) AS n FROM h)
    SELECT ${keys}, any_value(n)::BIGINT, ${at(50)}, ${at(90)}, ${at(99)}, min(x), max(x) FROM c
    GROUP BY ALL ORDER BY ${keys}`;
}

export interface SizeBucket {
  exchange: number;
  instrumentId: number;
  /** Sizes in [from, to): powers of ten. */
  from: string;
  to: string;
  trades: number;
  volume: string;
}

export async function tradeSizes(duck: DuckDBConnection, view: string): Promise<SizeBucket[]> {
  const out = await rows(
    duck,
    `SELECT exchange, instrument_id, floor(log10(size::DOUBLE))::INTEGER AS e, count(*)::BIGINT, sum(size)::VARCHAR
     FROM ${view} WHERE size > 0 GROUP BY ALL ORDER BY exchange, instrument_id, e`,
  );
  const pow = (e: number) => (e >= 0 ? `1${"0".repeat(e)}` : `0.${"0".repeat(-e - 1)}1`);
  return out.map((r) => ({
    exchange: num(r[0]),
    instrumentId: num(r[1]),
    from: pow(num(r[2])),
    to: pow(num(r[2]) + 1),
    trades: num(r[3]),
    volume: trimDecimal(str(r[4])) ?? "0",
  }));
}

export interface FeedQualityRow {
  date: string;
  exchange: number;
  instrumentId: number;
  gaps: number;
  missing: number;
  tradeGaps: number;
  resyncs: number;
  disconnects: number;
  staleSeconds: number;
}

/** Per day from feed events: loss, resyncs, disconnects, and time spent stale (stale → fresh). */
export async function feedQuality(duck: DuckDBConnection, view: string): Promise<FeedQualityRow[]> {
  const out = await rows(
    duck,
    `WITH e AS (SELECT *, lead(time) OVER (PARTITION BY exchange, instrument_id ORDER BY time, seq) AS next_time,
        lead(event) OVER (PARTITION BY exchange, instrument_id ORDER BY time, seq) AS next_event FROM ${view}
        WHERE event IN ('gap', 'trade_gap', 'relay_gap', 'book_resync', 'disconnected', 'stale', 'fresh', 'connected'))
     SELECT strftime(time, '%Y-%m-%d') AS day, exchange, instrument_id,
       count(*) FILTER (WHERE event IN ('gap', 'relay_gap'))::BIGINT,
       coalesce(sum(count) FILTER (WHERE event IN ('gap', 'relay_gap', 'trade_gap')), 0)::BIGINT,
       count(*) FILTER (WHERE event = 'trade_gap')::BIGINT,
       count(*) FILTER (WHERE event = 'book_resync')::BIGINT,
       count(*) FILTER (WHERE event = 'disconnected')::BIGINT,
       coalesce(sum(CASE WHEN event = 'stale' THEN detail / 1000.0 + coalesce(epoch(next_time) - epoch(time), 0) END), 0)
     FROM e GROUP BY ALL ORDER BY day, exchange, instrument_id`,
  );
  return out.map((r) => ({
    date: String(r[0]),
    exchange: num(r[1]),
    instrumentId: num(r[2]),
    gaps: num(r[3]),
    missing: num(r[4]),
    tradeGaps: num(r[5]),
    resyncs: num(r[6]),
    disconnects: num(r[7]),
    staleSeconds: Math.round(num(r[8]) * 1000) / 1000,
  }));
}
