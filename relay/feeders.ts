// One relay, one feeder kind per exchange (relay/README.md, "What the relay refuses"): an exchange fed by
// collectors (the collector socket, this relay's own seqs) and by a pass-through link (another relay's seqs) at
// once would interleave two sequences into one, and consumers rely on one per exchange. While a connection of
// one kind is bound to an exchange, frames of that exchange on a connection of the other kind are refused: not
// journaled, not fanned out, not acknowledged (the sender keeps them). Decided once per connection, when it
// would bind, never per frame on a bound connection. When the last connection of the holding kind closes, the
// refused connections are ended (server.ts), so their senders reconnect and resend what they hold, and the
// exchange goes to them. Only open connections hold an exchange: the kind the journal restores
// (SeqState.tracked) decides nothing here, so after a restart the first kind to bind takes it.
import type { Logger } from "../lib/log.ts";
import { EXCHANGE_NAMES } from "../schema/frame.ts";
import type { IngestConnection } from "./ingest.ts";
import type { RelayMetrics } from "./metrics.ts";

/** The two ingest kinds; the values are SeqState.tracked's for an exchange fed by that kind. */
export const COLLECTOR = 1;
export const PASSTHROUGH = 2;
export type IngestKind = typeof COLLECTOR | typeof PASSTHROUGH;
export const INGEST_KIND_NAMES: Record<IngestKind, string> = { 1: "collector", 2: "passthrough" };

export class ExchangeFeeders {
  /** Open connections bound per exchange code, indexed [kind][exchange]. */
  private readonly bound = [new Uint16Array(16), new Uint16Array(16), new Uint16Array(16)];
  /** The last connection of `kind` bound to `ex` closed: the other kind's refused connections may take it. */
  onRelease: (ex: number, kind: IngestKind) => void = () => {};

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
  ) {}

  /** The kind holding `ex` (an open connection bound to it), or 0. */
  holder(ex: number): 0 | IngestKind {
    if (this.bound[COLLECTOR]![ex]! > 0) return COLLECTOR;
    if (this.bound[PASSTHROUGH]![ex]! > 0) return PASSTHROUGH;
    return 0;
  }

  /**
   * `conn` (of `kind`) would bind to `ex`: true when it may, false when the other kind holds `ex` (then the
   * frame is refused, counted and logged here; the caller drops it).
   */
  bind(conn: IngestConnection, kind: IngestKind, ex: number): boolean {
    const other = kind === COLLECTOR ? PASSTHROUGH : COLLECTOR;
    if (this.bound[other]![ex]! === 0) {
      this.bound[kind]![ex]!++;
      conn.refusedFor = 0;
      return true;
    }
    conn.refusedFor = ex;
    conn.conflicts++;
    this.metrics.conflictFrames[kind * 16 + ex]?.inc();
    this.log.limited(
      "warn",
      `conflict-${conn.id}`,
      "frames refused: the exchange is fed by the other ingest",
      {
        connection: conn.id,
        exchange: EXCHANGE_NAMES[ex],
        ingest: INGEST_KIND_NAMES[kind],
        fedBy: INGEST_KIND_NAMES[other],
        refused: conn.conflicts,
      },
    );
    return false;
  }

  /** A connection of `kind` bound to `ex` (0 = never bound) closed. */
  release(kind: IngestKind, ex: number): void {
    if (ex === 0 || this.bound[kind]![ex]! === 0) return;
    if (--this.bound[kind]![ex]! === 0) this.onRelease(ex, kind);
  }
}
