// Opaque keyset cursors: the sort key of the last row of a page, base64url JSON. Decoding validates the
// shape and the range of every field (a smallint column gets a known exchange id, a bigint column an
// int64, a time a real instant), so a forged cursor is a 422, never an SQL error.
import { EXCHANGE_NAMES } from "../../schema/frame.ts";
import { UnprocessableError } from "../errors.ts";
import { parseTime } from "../time.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const FIELD: Record<string, (v: unknown) => boolean> = {
  s: (v) => typeof v === "string" && v.length <= 64,
  n: (v) => Number.isSafeInteger(v),
  x: (v) => typeof v === "number" && EXCHANGE_NAMES[v] !== undefined,
  d: (v) =>
    typeof v === "string" && /^-?\d{1,19}$/.test(v) && BigInt(v) >= INT64_MIN && BigInt(v) <= INT64_MAX,
  u: (v) =>
    typeof v === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
};

const invalid = () =>
  new UnprocessableError("cursor is not valid here; pass nextCursor from the previous page unchanged");

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/**
 * Decode a cursor whose fields match `shape`: "s" short string, "n" safe integer, "x" exchange id,
 * "d" int64 as text, "u" uuid.
 */
export function decodeCursor(text: string, shape: string): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    key = undefined;
  }
  if (
    !Array.isArray(key) ||
    key.length !== shape.length ||
    !key.every((v, i) => FIELD[shape[i] ?? ""]?.(v) === true)
  )
    throw invalid();
  return key;
}

/** An RFC 3339 time with µs from a cursor (the form isoTime writes), checked as a real instant. */
export function cursorTime(value: string | number | undefined): string {
  if (typeof value !== "string" || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(value)) throw invalid();
  try {
    return parseTime("cursor", value).text;
  } catch {
    throw invalid();
  }
}
