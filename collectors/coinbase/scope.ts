// What the channel parsers share while one Coinbase message is handled: the scanner over its text, the
// envelope's sequence_num and timestamp, and the helpers that report bad values (counted, logged, never
// rounded). Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview
import { writeRfc3339Ns } from "../../schema/clock.ts";
import { badValue, parseProblem } from "../core/bad-value.ts";
import { STAGING_FRAMES } from "../core/emitter.ts";
import type { JsonScanner } from "../core/json.ts";
import type { FeedContext } from "../core/types.ts";
import type { ProductTable } from "./symbols.ts";

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

/** Commit early when a huge message (a full-depth snapshot) would overflow the staging buffer. */
export function makeRoom(ctx: FeedContext): void {
  if (ctx.emitter.pending >= STAGING_FRAMES - 2) ctx.emitter.commit();
}

/** A malformed or unknown part of a message (core/bad-value.ts policy); the rest of it is kept. */
export function parseError(scope: Scope, reason: string, detail?: string): void {
  parseProblem(scope.ctx, reason, scope.text, detail);
}

/** A price or size parseFixed rejected (core/bad-value.ts policy). True when it was unrepresentable. */
export const badDecimal = (scope: Scope, instrument: number, field: string, quiet = false): boolean =>
  badValue(scope.ctx, instrument, field, scope.text, quiet);
