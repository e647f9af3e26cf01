// The trader's spool lines (trader/tapewire_trader/recording.py writes them): one engine event each, with the
// row it makes. parseRecord() checks the envelope and the fields each kind needs; a line that fails is a
// SpoolLineError (kept aside by the recorder, never applied, never dropped silently).

export interface OrderRow {
  client_order_id: string;
  venue_order_id: string | null;
  side: "BUY" | "SELL";
  type: string;
  quantity: string;
  price: string | null;
  time_in_force: string;
  post_only: boolean;
  status: string;
  filled_qty: string;
  avg_px: string | null;
  reason: string | null;
  ts_init: string | number;
}

export interface FillRow {
  trade_id: string;
  client_order_id: string;
  venue_order_id: string | null;
  position_id: string | null;
  side: "BUY" | "SELL";
  quantity: string;
  price: string;
  commission: string;
  commission_currency: string;
  liquidity: string;
}

export interface PositionRow {
  position_id: string;
  side: string;
  signed_qty: string;
  avg_px_open: string | null;
  avg_px_close: string | null;
  realized_pnl: string;
  unrealized_pnl: string;
  currency: string;
  ts_opened: string | number;
  ts_closed: string | number | null;
}

export interface BalanceRow {
  currency: string;
  total: string;
  locked: string;
  free: string;
}

export interface RunInfo {
  trader_id: string;
  strategy_id: string;
  strategy: string;
  mode: "paper" | "live";
  instruments: string[];
  config: Record<string, string>;
}

export interface SpoolRecord {
  run: string;
  seq: number;
  kind: string;
  /** ns since the epoch. */
  ts: bigint;
  message: string;
  strategy?: string | null;
  instrument?: string | null;
  event?: unknown;
  info?: RunInfo | Record<string, never>;
  order?: OrderRow;
  fill?: FillRow;
  position?: PositionRow;
  account_id?: string;
  balances?: BalanceRow[];
}

export class SpoolLineError extends Error {
  override readonly name = "SpoolLineError";
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;
const NS = /^[0-9]{1,20}$/;

function need(ok: boolean, what: string): void {
  if (!ok) throw new SpoolLineError(what);
}

function decimals(row: Record<string, unknown>, keys: readonly string[], nullable: readonly string[] = []) {
  for (const k of keys) {
    const v = row[k];
    if (v === null && nullable.includes(k)) continue;
    need(typeof v === "string" && DECIMAL.test(v), `${k} must be a decimal string, got ${JSON.stringify(v)}`);
  }
}

/** ns from a spooled stamp (a decimal string, or a small integer). */
export function nsOf(v: unknown, what: string): bigint {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  need(typeof v === "string" && NS.test(v), `${what} must be ns since the epoch, got ${JSON.stringify(v)}`);
  return BigInt(v as string);
}

export function parseRecord(line: string): SpoolRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    throw new SpoolLineError(`not JSON: ${(error as Error).message}`);
  }
  need(typeof raw === "object" && raw !== null && !Array.isArray(raw), "not an object");
  const r = raw as Record<string, unknown>;
  need(typeof r.run === "string" && UUID.test(r.run), "run must be a uuid");
  need(typeof r.seq === "number" && Number.isSafeInteger(r.seq) && r.seq >= 1, "seq must be an integer >= 1");
  need(typeof r.kind === "string" && r.kind.length > 0, "kind must be a string");
  need(typeof r.message === "string", "message must be a string");
  const rec = { ...r, ts: nsOf(r.ts, "ts") } as unknown as SpoolRecord;
  if (rec.kind === "run.started") {
    const info = r.info as Record<string, unknown> | undefined;
    need(typeof info === "object" && info !== null, "run.started needs info");
    const i = info as Record<string, unknown>;
    need(typeof i.strategy_id === "string" && typeof i.trader_id === "string", "info needs ids");
    need(i.mode === "paper" || i.mode === "live", "info.mode must be paper or live");
    need(Array.isArray(i.instruments), "info.instruments must be a list");
  }
  if (rec.order) {
    const o = rec.order as unknown as Record<string, unknown>;
    need(typeof o.client_order_id === "string", "order.client_order_id");
    need(o.side === "BUY" || o.side === "SELL", "order.side must be BUY or SELL");
    decimals(o, ["quantity", "filled_qty", "price", "avg_px"], ["price", "avg_px"]);
    nsOf(o.ts_init, "order.ts_init");
    need(typeof rec.strategy === "string" && typeof rec.instrument === "string", "an order needs its ids");
  }
  if (rec.fill) {
    const f = rec.fill as unknown as Record<string, unknown>;
    need(typeof f.trade_id === "string" && typeof f.client_order_id === "string", "fill ids");
    need(f.side === "BUY" || f.side === "SELL", "fill.side must be BUY or SELL");
    decimals(f, ["quantity", "price", "commission"]);
  }
  if (rec.position) {
    const p = rec.position as unknown as Record<string, unknown>;
    need(typeof p.position_id === "string", "position.position_id");
    decimals(
      p,
      ["signed_qty", "realized_pnl", "unrealized_pnl", "avg_px_open", "avg_px_close"],
      ["avg_px_close"],
    );
    nsOf(p.ts_opened, "position.ts_opened");
    if (p.ts_closed !== null && p.ts_closed !== undefined) nsOf(p.ts_closed, "position.ts_closed");
  }
  if (rec.balances) {
    need(Array.isArray(rec.balances) && typeof rec.account_id === "string", "balances need an account");
    for (const b of rec.balances)
      decimals(b as unknown as Record<string, unknown>, ["total", "locked", "free"]);
  }
  return rec;
}
