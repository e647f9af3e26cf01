// Fault injection: validation, and the gate every outgoing data message passes (drop, stall), plus
// counted one-shot faults the venues consume (corrupt checksum, malformed frames, REST status).
import type { Fault, FaultController, FaultKind, VenueName } from "./types.ts";
import { FAULT_KINDS, VENUES } from "./types.ts";

export class FaultError extends Error {
  override name = "FaultError";
}

/** send: now; drop: lost on the way (it was numbered); hold: sent when the stall ends; skip: never produced. */
export type RouteResult = "send" | "drop" | "hold" | "skip";

interface ActiveFault {
  spec: Fault;
  remaining: number;
  untilMs: number;
  held: (() => void)[];
}

/** Faults that act at once (the server dispatches them to the venue or the market). */
const IMMEDIATE: ReadonlySet<FaultKind> = new Set([
  "disconnect",
  "server-shutdown",
  "cross-book",
  "replay-trades",
]);
const ONLY: Partial<Record<FaultKind, VenueName>> = {
  "corrupt-checksum": "kraken",
  "rest-status": "binance",
};
const CHANNEL_ALIASES: Record<string, string> = {
  level2: "l2_data",
  heartbeat: "heartbeat",
  heartbeats: "heartbeats",
};

export class Faults implements FaultController {
  private faults: ActiveFault[] = [];
  private readonly perVenue: Record<VenueName, number> = { kraken: 0, coinbase: 0, binance: 0 };
  readonly dropped: Record<VenueName, number> = { kraken: 0, coinbase: 0, binance: 0 };

  constructor(
    /** True if the venue lists this symbol (the venue's own spelling). */
    private readonly knownSymbol: (venue: VenueName, symbol: string) => boolean,
    /** Acts on an immediate fault. */
    private readonly immediate: (fault: Fault) => void,
    private readonly now: () => number = Date.now,
  ) {}

  inject(input: Fault): void {
    const fault = validate(input, this.knownSymbol);
    if (IMMEDIATE.has(fault.fault)) {
      this.immediate(fault);
      return;
    }
    const count = fault.count ?? 1;
    const untilMs = fault.fault === "stall" ? this.now() + (fault.durationMs ?? 1000) : 0;
    this.faults.push({ spec: fault, remaining: count, untilMs, held: [] });
    this.perVenue[fault.venue]++;
  }

  active(): Fault[] {
    return this.faults.map((f) => ({
      ...f.spec,
      ...(f.spec.fault === "stall" ? {} : { count: f.remaining }),
    }));
  }

  clear(): void {
    const all = this.faults;
    this.faults = [];
    for (const v of VENUES) this.perVenue[v] = 0;
    for (const f of all) for (const release of f.held) release();
  }

  /** Fast check before building closures: does the venue have any pending fault? */
  any(venue: VenueName): boolean {
    return this.perVenue[venue] > 0;
  }

  /**
   * Gate one outgoing data message. Returns true to send it now. A drop fault eats it; a stall holds it
   * (release runs when the stall ends, in order) or, without release, skips it (heartbeats: a stalled
   * server produces none).
   */
  route(venue: VenueName, channel: string, symbol: string | undefined, release?: () => void): RouteResult {
    if (this.perVenue[venue] === 0) return "send";
    for (const f of this.faults) {
      const kind = f.spec.fault;
      if ((kind !== "drop" && kind !== "stall") || !matches(f.spec, venue, channel, symbol)) continue;
      if (kind === "drop") {
        this.consume(f);
        this.dropped[venue]++;
        return "drop";
      }
      if (this.now() < f.untilMs) {
        if (!release) return "skip";
        f.held.push(release);
        return "hold";
      }
    }
    return "send";
  }

  /** Consume one count of a one-shot fault (corrupt-checksum, malformed, rest-status) if one matches. */
  take(venue: VenueName, kind: FaultKind, channel?: string, symbol?: string): Fault | undefined {
    if (this.perVenue[venue] === 0) return undefined;
    for (const f of this.faults) {
      if (f.spec.fault !== kind || f.spec.venue !== venue) continue;
      if (channel !== undefined && !matches(f.spec, venue, channel, symbol)) continue;
      this.consume(f);
      return f.spec;
    }
    return undefined;
  }

  /** Ends stalls whose time is up and releases what they held. */
  tick(): void {
    if (this.faults.length === 0) return;
    const now = this.now();
    for (const f of this.faults) {
      if (f.spec.fault === "stall" && now >= f.untilMs) this.remove(f);
    }
  }

  private consume(f: ActiveFault): void {
    if (--f.remaining <= 0) this.remove(f);
  }

  private remove(f: ActiveFault): void {
    const i = this.faults.indexOf(f);
    if (i < 0) return;
    this.faults.splice(i, 1);
    this.perVenue[f.spec.venue]--;
    for (const release of f.held.splice(0)) release();
  }
}

function sameSymbol(venue: VenueName, a: string, b: string): boolean {
  return venue === "binance" ? a.toUpperCase() === b.toUpperCase() : a === b;
}

function matches(spec: Fault, venue: VenueName, channel: string, symbol: string | undefined): boolean {
  if (spec.venue !== venue) return false;
  if (spec.symbol !== undefined && (symbol === undefined || !sameSymbol(venue, spec.symbol, symbol)))
    return false;
  if (spec.channel !== undefined) {
    const want = CHANNEL_ALIASES[spec.channel] ?? spec.channel;
    if (want !== channel && !channel.startsWith(`${want}@`)) return false;
  }
  return true;
}

function validate(input: Fault, knownSymbol: (venue: VenueName, symbol: string) => boolean): Fault {
  if (typeof input !== "object" || input === null) throw new FaultError("fault must be a JSON object");
  const { venue, fault, symbol, channel, count, durationMs, status } = input;
  if (!VENUES.includes(venue)) throw new FaultError(`venue must be one of ${VENUES.join(", ")}`);
  if (!FAULT_KINDS.includes(fault)) throw new FaultError(`fault must be one of ${FAULT_KINDS.join(", ")}`);
  const only = ONLY[fault];
  if (only && only !== venue) throw new FaultError(`${fault} applies to ${only} only`);
  if (symbol !== undefined && (typeof symbol !== "string" || !knownSymbol(venue, symbol)))
    throw new FaultError(`${venue} does not list symbol ${JSON.stringify(symbol)}`);
  if (channel !== undefined && (typeof channel !== "string" || channel.length === 0))
    throw new FaultError("channel must be a non-empty string");
  if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > 1_000_000))
    throw new FaultError("count must be an integer 1..1000000");
  if (
    durationMs !== undefined &&
    (typeof durationMs !== "number" || !(durationMs > 0) || durationMs > 3_600_000)
  )
    throw new FaultError("durationMs must be a number of milliseconds, 0 < d <= 3600000");
  if (status !== undefined && status !== 429 && status !== 418)
    throw new FaultError("status must be 429 or 418");
  return { venue, fault, symbol, channel, count, durationMs, status };
}
