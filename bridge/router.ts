// Every relay frame, once: update the book/BBO state, build the JSON message if anyone listens (once, for all
// listeners), and append the database row. All synchronous and I/O-free: the WebSocket publish happens at the
// end of the tick (publisher.ts) and the database write somewhere else entirely (sink/writer.ts).
import type { Logger } from "../lib/log.ts";
import { frameExchange, frameInstrument, frameKind, frameStatus, Kind, Status } from "../schema/frame.ts";
import { bboJson, bookUpdateJson, statusJson, tradeJson } from "./format.ts";
import type { BridgeMetrics } from "./metrics.ts";
import type { Publisher } from "./publisher.ts";
import type { RowEncoder } from "./rows.ts";
import type { SymbolEntry, TopicTable } from "./topics.ts";

export class FrameRouter {
  constructor(
    private readonly table: TopicTable,
    /** Only called for topics with subscribers: a database-only router (sink/db-consumer.ts) never publishes. */
    private readonly publisher: Pick<Publisher, "push">,
    /** Null when the bridge runs without a database. */
    private readonly rows: RowEncoder | null,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {}

  readonly onFrame = (v: DataView, off: number): void => {
    const e = this.table.entry(frameExchange(v, off), frameInstrument(v, off));
    switch (frameKind(v, off)) {
      case Kind.Trade:
        this.metrics.framesIn.trade.value++;
        if (!e.instrument) {
          this.unknown(e);
          return;
        }
        this.rows?.trade(e, v, off);
        if (e.trade.subscribers > 0) this.publisher.push(e.trade, tradeJson(e, v, off));
        return;
      case Kind.BookLevel: {
        this.metrics.framesIn.book.value++;
        if (!e.instrument) {
          this.unknown(e);
          return;
        }
        // Every level change is stored as received (snapshots, deltas, update ends): books can be rebuilt.
        this.rows?.bookChange(e, v, off);
        const st = e.bookState;
        if (st.add(v, off)) {
          st.applyGroup();
          if (e.book.subscribers > 0) this.publisher.push(e.book, bookUpdateJson(e));
          st.clearGroup();
        }
        return;
      }
      case Kind.Bbo:
        this.metrics.framesIn.bbo.value++;
        if (!e.instrument) {
          this.unknown(e);
          return;
        }
        if (e.bboState.apply(v, off) && e.bbo.subscribers > 0) this.publisher.push(e.bbo, bboJson(e));
        return;
      case Kind.Status:
        this.metrics.framesIn.status.value++;
        // Heartbeats say "alive" to live clients; stored, they would only be noise.
        if (frameStatus(v, off) !== Status.Heartbeat) this.rows?.status(e, v, off);
        if (e.status.subscribers > 0) this.publisher.push(e.status, statusJson(e, v, off));
        return;
    }
  };

  private unknown(e: SymbolEntry): void {
    this.metrics.framesSkipped("unknown_instrument").inc();
    this.log.limited(
      "warn",
      `unknown-${e.exchange}-${e.instrumentId}`,
      "frame for an instrument the registry does not know: skipped",
      {
        exchange: e.exchangeName,
        instrument: e.instrumentId,
      },
    );
  }

  /** Store the BBO of every symbol that changed since the last sample (BRIDGE_BOOK_SAMPLE_MS). */
  sampleBookTops(): number {
    if (!this.rows) return 0;
    let n = 0;
    for (const e of this.table.entries) {
      if (!e.bboState.dirty || !e.instrument) continue;
      e.bboState.dirty = false;
      this.rows.bookTop(e);
      n++;
    }
    return n;
  }
}
