// Book integrity for Coinbase level2, per product. Coinbase gives no checksum and no per-product sequence:
// what we have is the connection-wide sequence_num (a gap invalidates every book on the connection) and
// the book itself (a crossed book means we missed an update). A failed book drops updates until the
// fresh snapshot of a level2 resubscribe arrives; BookSynced then says it is trustworthy again.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels#level2-channel
import { ResyncReason, Status } from "../../schema/frame.ts";
import { BookState, OrderBook } from "../core/book.ts";
import type { FeedContext } from "../core/types.ts";

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ProductBook {
  readonly book = new OrderBook();
  state: BookState = BookState.AwaitingSnapshot;
  waiter: Waiter | null = null;
  /** Updates dropped while waiting for a snapshot (for the logs). */
  droppedUpdates = 0;

  constructor(readonly instrument: number) {}
}

export class CoinbaseBooks {
  private readonly byInstrument = new Map<number, ProductBook>();

  constructor(instruments: readonly number[]) {
    for (const id of instruments) this.byInstrument.set(id, new ProductBook(id));
  }

  get(instrument: number): ProductBook | undefined {
    return this.byInstrument.get(instrument);
  }

  all(): IterableIterator<ProductBook> {
    return this.byInstrument.values();
  }

  /** The book can no longer be trusted: stop applying updates until a snapshot. */
  invalidate(instrument: number): void {
    const pb = this.byInstrument.get(instrument);
    if (!pb) return;
    pb.state = BookState.Resyncing;
    pb.book.clear();
  }

  /**
   * A snapshot has been applied to pb.book: the book is synced. Emits BookSynced when it ends a resync and
   * settles whoever waits for it.
   */
  synced(pb: ProductBook, ctx: FeedContext): void {
    const wasResyncing = pb.state === BookState.Resyncing;
    pb.state = BookState.Synced;
    if (pb.droppedUpdates > 0) {
      ctx.log.info("level2 resynced", { instrument: pb.instrument, droppedUpdates: pb.droppedUpdates });
      pb.droppedUpdates = 0;
    }
    if (wasResyncing) ctx.emitter.status(Status.BookSynced, pb.instrument, 0, 0);
    this.settle(pb, null);
  }

  /** Resolves when the product's next snapshot is applied; rejects after timeoutMs (the resync is retried). */
  waitForSnapshot(instrument: number, timeoutMs: number): Promise<void> {
    const pb = this.byInstrument.get(instrument);
    if (!pb) return Promise.resolve();
    this.settle(pb, null);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        pb.waiter = null;
        reject(new Error(`no level2 snapshot within ${timeoutMs} ms`));
      }, timeoutMs);
      // A pending resync must not keep a stopping process alive.
      (timer as { unref?: () => void }).unref?.();
      pb.waiter = { resolve, reject, timer };
    });
  }

  /**
   * The connection closed. Synced books are announced as resyncing (reason reconnect): the next connection
   * resubscribes and its snapshots end the resync. Pending waits are released, the reconnect replaces them.
   */
  connectionLost(ctx: FeedContext): void {
    for (const pb of this.byInstrument.values()) {
      if (pb.state === BookState.Synced) {
        pb.state = BookState.Resyncing;
        ctx.emitter.status(Status.BookResync, pb.instrument, ResyncReason.Reconnect, 0);
      }
      pb.book.clear();
      this.settle(pb, null);
    }
  }

  private settle(pb: ProductBook, error: Error | null): void {
    const waiter = pb.waiter;
    if (!waiter) return;
    pb.waiter = null;
    clearTimeout(waiter.timer);
    if (error) waiter.reject(error);
    else waiter.resolve();
  }
}
