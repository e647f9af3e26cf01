// RFC 3339 times from clients, checked as calendar values before they reach SQL or Date arithmetic. The
// OpenAPI `date-time` format only checks the shape: 2025-02-30, 24:00 or year 0000 pass it and then fail
// in Postgres as a 500. Every accepted time lies in [0001-01-01, 9999-12-31] UTC.
import { UnprocessableError } from "./errors.ts";

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** The earliest and latest instants the API accepts (inclusive), in epoch ms. */
export const MIN_TIME_MS = Date.parse("0001-01-01T00:00:00Z");
export const MAX_TIME_MS = Date.parse("9999-12-31T23:59:59.999Z");

export const TIME_RANGE_TEXT = "between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z";

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (year: number, month: number) => (month === 2 && isLeap(year) ? 29 : (DAYS[month - 1] ?? 0));

export interface ParsedTime {
  /** Epoch milliseconds (sub-ms digits dropped). */
  ms: number;
  /** The text as given (T and Z upper-cased): valid for Postgres, keeps microseconds. */
  text: string;
}

/** A checked time; a 422 naming `name` if it is not a real instant in range. */
export function parseTime(name: string, text: string): ParsedTime {
  const m = RFC3339.exec(text);
  const bad = (why: string) =>
    new UnprocessableError(`${name} must be an RFC 3339 time such as 2025-01-31T12:00:00Z (${why})`);
  if (!m) throw bad(`got ${JSON.stringify(text.slice(0, 40))}`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) throw bad("month out of range");
  if (day < 1 || day > daysIn(year, month)) throw bad(`${year}-${m[2]} has no day ${m[3]}`);
  if (hour > 23 || minute > 59 || second > 59) throw bad("time of day out of range");
  if (m[8] && (Number(m[9]) > 23 || Number(m[10]) > 59)) throw bad("offset out of range");
  const upper = text.toUpperCase();
  const ms = Date.parse(upper);
  if (!Number.isFinite(ms) || year < 1 || ms < MIN_TIME_MS || ms > MAX_TIME_MS)
    throw bad(`must be ${TIME_RANGE_TEXT}`);
  return { ms, text: upper };
}

/** Optional variant for query parameters. */
export const parseOptionalTime = (name: string, text: string | undefined): ParsedTime | undefined =>
  text === undefined ? undefined : parseTime(name, text);

/** from < to when both are given (the range is half-open: [from, to)). */
export function checkRange(from: ParsedTime | undefined, to: ParsedTime | undefined): void {
  if (from && to && from.ms >= to.ms) throw new UnprocessableError("from must be before to");
}
