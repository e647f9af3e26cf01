// Opaque keyset cursors: the sort key of the last row of a page, base64url JSON. Decoding validates the
// shape, so a forged cursor is a 422, never an SQL error.
import { UnprocessableError } from "../errors.ts";

const FIELD: Record<string, (v: unknown) => boolean> = {
  s: (v) => typeof v === "string" && v.length <= 64,
  n: (v) => Number.isSafeInteger(v),
  d: (v) => typeof v === "string" && /^-?\d{1,20}$/.test(v),
  u: (v) =>
    typeof v === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
};

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** Decode a cursor whose fields match `shape`: "s" short string, "n" safe integer, "d" integer as text, "u" uuid. */
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
    throw new UnprocessableError(
      "cursor is not valid here; pass nextCursor from the previous page unchanged",
    );
  return key;
}

/** An RFC 3339 time with µs from a cursor, checked before it reaches SQL. */
export function cursorTime(value: string | number | undefined): string {
  if (typeof value !== "string" || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(value))
    throw new UnprocessableError(
      "cursor is not valid here; pass nextCursor from the previous page unchanged",
    );
  return value;
}
