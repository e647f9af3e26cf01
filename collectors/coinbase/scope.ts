// What the channel parsers share while one Coinbase message is handled: the scanner over its text, the
// envelope's sequence_num and timestamp, and the helpers that report bad values (counted, logged, never
// rounded). Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview
import { writeRfc3339Ns } from "../../schema/clock.ts";
import { DecimalError, decimalError } from "../../schema/decimal.ts";
import { Status } from "../../schema/frame.ts";
import { STAGING_FRAMES } from "../core/emitter.ts";
import type { FeedContext } from "../core/types.ts";
import type { JsonScanner } from "./json.ts";
import type { ProductTable } from "./products.ts";

export interface Scope {
  readonly s: JsonScanner;
  readonly products: ProductTable;
  ctx: FeedContext;
  text: string;
  /** The envelope's sequence_num (the id of book and BBO frames); 0 when absent. */
  seq: number;
  /** The envelope timestamp's span (-1 if absent); parsed on first use by envelopeTime(). */
  tsStart: number;
  tsStop: number;
  /** 0 not parsed yet, 1 parsed, 2 absent or unreadable (reported once). */
  tsState: number;
  /** The envelope timestamp as i64 ns halves after envelopeTime(); 0/0 when absent or unreadable. */
  tsLo: number;
  tsHi: number;
  /** Problems found while collecting, reported only if the whole message turns out well-formed. */
  readonly deferred: string[];
  readonly deferredDetail: Array<string | undefined>;
}

/** A semantic problem met during the walk: reported after validation (a malformed message is one error). */
export function deferError(scope: Scope, reason: string, detail?: string): void {
  scope.deferred.push(reason);
  scope.deferredDetail.push(detail);
}

export function reportDeferred(scope: Scope): void {
  for (let i = 0; i < scope.deferred.length; i++)
    parseError(scope, scope.deferred[i]!, scope.deferredDetail[i]);
  clearDeferred(scope);
}

export function clearDeferred(scope: Scope): void {
  // Setting an array's length is not free: only when there is something to clear.
  if (scope.deferred.length === 0) return;
  scope.deferred.length = 0;
  scope.deferredDetail.length = 0;
}

/** A growable Int32Array: spans collected during the walk, reused across messages. */
export class IntList {
  data = new Int32Array(64);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
}

const scratch = new DataView(new ArrayBuffer(8));

/** Parse an RFC 3339 span into (lo, hi) halves kept in `out`; false if it is not a valid timestamp. */
export function readTime(
  text: string,
  start: number,
  stop: number,
  out: { lo: number; hi: number },
): boolean {
  if (!writeRfc3339Ns(scratch, 0, text, start, stop)) return false;
  out.lo = scratch.getUint32(0, true);
  out.hi = scratch.getInt32(4, true);
  return true;
}

/**
 * Parse the envelope timestamp once per message into scope.tsLo/tsHi (the exchange time of book and BBO
 * frames, and of a trade whose own time is unreadable). Trades normally never need it.
 */
export function envelopeTime(scope: Scope): void {
  if (scope.tsState !== 0) return;
  if (scope.tsStart >= 0 && readTime(scope.text, scope.tsStart, scope.tsStop, envelopeScratch)) {
    scope.tsLo = envelopeScratch.lo;
    scope.tsHi = envelopeScratch.hi;
    scope.tsState = 1;
    return;
  }
  scope.tsLo = 0;
  scope.tsHi = 0;
  scope.tsState = 2;
  parseError(scope, "bad_timestamp", "envelope timestamp");
}

const envelopeScratch = { lo: 0, hi: 0 };

export function writeTime(view: DataView, offset: number, lo: number, hi: number): void {
  view.setUint32(offset + 32, lo, true);
  view.setInt32(offset + 36, hi, true);
}

/** Commit early when a huge message (a full-depth snapshot) would overflow the staging buffer. */
export function makeRoom(ctx: FeedContext): void {
  if (ctx.emitter.pending >= STAGING_FRAMES - 2) ctx.emitter.commit();
}

/** Count and log (rate-limited) a malformed or unknown part of a message; the rest of it is kept. */
export function parseError(scope: Scope, reason: string, detail?: string): void {
  scope.ctx.metrics.parseError(reason);
  scope.ctx.log.limited("warn", `coinbase_${reason}`, "coinbase message part skipped", {
    reason,
    detail,
    message: scope.text.slice(0, 300),
  });
}

/**
 * A price or size that parseFixed rejected. A value the instrument's decimals cannot hold exactly is
 * unrepresentable (counted twice: the dedicated metric and a parse error, and reported with a status frame
 * unless `quiet`, for callers that must not commit mid-update); anything else is a bad number.
 * Returns true when it was unrepresentable.
 */
export function badDecimal(scope: Scope, instrument: number, field: string, quiet = false): boolean {
  const error = decimalError();
  if (error === DecimalError.NotExact || error === DecimalError.Overflow) {
    const metrics = scope.ctx.metrics;
    metrics.unrepresentable.inc();
    parseError(scope, "unrepresentable", field);
    if (!quiet) reportUnrepresentable(scope.ctx, instrument);
    return true;
  }
  parseError(scope, "bad_number", field);
  return false;
}

export function reportUnrepresentable(ctx: FeedContext, instrument: number): void {
  ctx.emitter.status(Status.Unrepresentable, instrument, ctx.metrics.unrepresentable.value, 1);
}
