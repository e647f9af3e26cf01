// Client requests: {"op":"subscribe"|"unsubscribe","exchanges":[...],"symbols":[...],"kinds":[...]}.
// Empty or missing lists mean "all". Unknown values are named back in the error and nothing changes.
import { EXCHANGE_IDS, type ExchangeName } from "../schema/frame.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";
import { EXCHANGE_LIST, KIND_NAMES_LIST, type KindName, type Topic, type TopicTable } from "./topics.ts";

export interface ClientRequest {
  op: "subscribe" | "unsubscribe";
  exchanges: ExchangeName[];
  symbols: string[];
  kinds: KindName[];
}

export interface RequestError {
  code: "bad_request" | "unknown_values";
  message: string;
  unknown?: { exchanges?: string[]; symbols?: string[]; kinds?: string[] };
}

export function parseClientMessage(text: string, registry: InstrumentRegistry): ClientRequest | RequestError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { code: "bad_request", message: "message is not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { code: "bad_request", message: "message must be a JSON object" };
  }
  const v = value as Record<string, unknown>;
  if (v.op !== "subscribe" && v.op !== "unsubscribe") {
    return {
      code: "bad_request",
      message: `op must be "subscribe" or "unsubscribe", got ${JSON.stringify(v.op)}`,
    };
  }
  for (const key of Object.keys(v)) {
    if (key !== "op" && key !== "exchanges" && key !== "symbols" && key !== "kinds") {
      return { code: "bad_request", message: `unknown field ${JSON.stringify(key)}` };
    }
  }
  const lists: Record<"exchanges" | "symbols" | "kinds", string[]> = {
    exchanges: [],
    symbols: [],
    kinds: [],
  };
  for (const key of ["exchanges", "symbols", "kinds"] as const) {
    const raw = v[key];
    if (raw === undefined || raw === null) continue;
    if (!Array.isArray(raw) || raw.some((s) => typeof s !== "string") || raw.length > 10_000) {
      return { code: "bad_request", message: `${key} must be an array of strings` };
    }
    lists[key] = raw as string[];
  }
  const unknown: NonNullable<RequestError["unknown"]> = {};
  const badExchanges = lists.exchanges.filter((s) => !(s in EXCHANGE_IDS));
  const badSymbols = lists.symbols.filter((s) => registry.bySymbol(s) === undefined);
  const badKinds = lists.kinds.filter((s) => !KIND_NAMES_LIST.includes(s as KindName));
  if (badExchanges.length) unknown.exchanges = badExchanges;
  if (badSymbols.length) unknown.symbols = badSymbols;
  if (badKinds.length) unknown.kinds = badKinds;
  if (badExchanges.length || badSymbols.length || badKinds.length) {
    const parts = Object.entries(unknown).map(
      ([k, list]) => `${k} ${list.map((s) => JSON.stringify(s)).join(", ")}`,
    );
    return { code: "unknown_values", message: `unknown ${parts.join("; ")}`, unknown };
  }
  return {
    op: v.op,
    exchanges: lists.exchanges as ExchangeName[],
    symbols: lists.symbols,
    kinds: lists.kinds as KindName[],
  };
}

export function isRequestError(r: ClientRequest | RequestError): r is RequestError {
  return "code" in r;
}

/** The topics a request names: listed exchange × symbol × kind, plus each exchange's connection-wide status. */
export function topicsFor(req: ClientRequest, table: TopicTable): Topic[] {
  const exchanges = req.exchanges.length ? req.exchanges : EXCHANGE_LIST;
  const kinds = req.kinds.length ? req.kinds : KIND_NAMES_LIST;
  const symbols = req.symbols.length ? new Set(req.symbols) : null;
  const out: Topic[] = [];
  for (const ex of exchanges) {
    for (const entry of table.listed(ex)) {
      if (symbols && !symbols.has(entry.instrument!.symbol)) continue;
      for (const kind of kinds) out.push(entry.topic(kind));
    }
    if (kinds.includes("status")) out.push(table.entry(EXCHANGE_IDS[ex], 0).status);
  }
  return out;
}
