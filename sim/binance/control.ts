// Binance live control messages (web-socket-streams.md "Live Subscribing/Unsubscribing"): SUBSCRIBE,
// UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY/GET_PROPERTY combined. Errors arrive nested with the id:
// {"error":{"code":2,"msg":"Invalid request: ..."},"id":1}.
import type { BinanceConn } from "./conn.ts";
import type { BinanceVenue } from "./venue.ts";

const MAX_STREAMS = 1024;
const METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`";

type Id = number | string | null;

export function handleControl(venue: BinanceVenue, conn: BinanceConn, text: string): void {
  const reply = (body: string) => venue.send(conn, body, "control");
  const error = (code: number, message: string, id: Id) =>
    reply(`{"error":{"code":${code},"msg":${JSON.stringify(message)}},"id":${JSON.stringify(id)}}`);
  let req: { method?: unknown; params?: unknown; id?: unknown };
  try {
    req = JSON.parse(text);
  } catch (e) {
    error(3, `Invalid JSON: ${(e as Error).message}`, null);
    return;
  }
  if (typeof req !== "object" || req === null || Array.isArray(req)) {
    error(2, "Invalid request: expected an object", null);
    return;
  }
  const rawId = req.id === undefined ? null : req.id;
  if (!validId(rawId)) {
    error(2, "Invalid request: request ID must be an unsigned integer", null);
    return;
  }
  const id = rawId as Id;
  if (typeof req.method !== "string") {
    error(2, "Invalid request: missing field `method`", id);
    return;
  }
  const params = req.params;
  switch (req.method) {
    case "SUBSCRIBE":
    case "UNSUBSCRIBE": {
      if (!Array.isArray(params) || params.length === 0) {
        error(2, "Invalid request: missing field `params`", id);
        return;
      }
      for (const p of params)
        if (typeof p !== "string" || !venue.stream(p)) {
          error(2, "Invalid request: invalid stream", id);
          return;
        }
      const names = params as string[];
      if (req.method === "SUBSCRIBE") {
        const after = new Set([...conn.streams, ...names]);
        if (after.size > MAX_STREAMS) {
          error(2, "Invalid request: too many streams", id);
          return;
        }
        for (const n of names) venue.subscribe(conn, n);
      } else for (const n of names) venue.unsubscribe(conn, n);
      reply(`{"result":null,"id":${JSON.stringify(id)}}`);
      return;
    }
    case "LIST_SUBSCRIPTIONS":
      reply(`{"result":${JSON.stringify([...conn.streams])},"id":${JSON.stringify(id)}}`);
      return;
    case "SET_PROPERTY": {
      if (!Array.isArray(params) || params.length !== 2) {
        error(2, "Invalid request: too many parameters", id);
        return;
      }
      if (params[0] !== "combined") {
        error(0, "Unknown property", id);
        return;
      }
      if (typeof params[1] !== "boolean") {
        error(1, "Invalid value type: expected Boolean", id);
        return;
      }
      conn.combined = params[1];
      reply(`{"result":null,"id":${JSON.stringify(id)}}`);
      return;
    }
    case "GET_PROPERTY": {
      if (!Array.isArray(params) || params[0] !== "combined") {
        error(0, "Unknown property", id);
        return;
      }
      reply(`{"result":${conn.combined},"id":${JSON.stringify(id)}}`);
      return;
    }
    default:
      error(2, `Invalid request: unknown variant \`${req.method}\`, expected one of ${METHODS}`, id);
      return;
  }
}

/** A signed 64-bit integer, an alphanumeric string of at most 36 characters, or null. */
function validId(id: unknown): boolean {
  if (id === null) return true;
  if (typeof id === "number") return Number.isInteger(id);
  return typeof id === "string" && /^[A-Za-z0-9_-]{1,36}$/.test(id);
}
