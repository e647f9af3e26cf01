// A replay relay: the relay's own consumer side (fanout.ts: rings, filter lines, the hold before the first
// line) on a Unix socket of its own, fed from the journal instead of collectors. Consumers connect exactly as
// to `bun relay/main.ts` and receive the journaled frames byte for byte (the recorded journal seqs kept).
// Unlike the live relay it never cuts a slow consumer: the replay waits until every consumer has room.
import type { SocketListener } from "bun";
import type { Logger } from "../lib/log.ts";
import { FrameBatch } from "./batch.ts";
import { ConsumerConn, Fanout } from "./fanout.ts";
import { RelayMetrics } from "./metrics.ts";
import type { PlaybackTarget } from "./playback.ts";
import { claimSocketPath, ensurePrivateDir, removeSocketFile } from "./sockets.ts";

export interface ServeOptions {
  /** The socket consumers connect to. */
  path: string;
  /** Per-consumer queue (default 8 MiB). */
  queueBytes?: number;
  log: Logger;
}

export class ReplayServer implements PlaybackTarget {
  private readonly consumers: ConsumerConn[] = [];
  private readonly fanout: Fanout;
  private readonly batch = new FrameBatch(64 * 1024);
  private listener: SocketListener<ConsumerConn | undefined> | null = null;
  private wakers: Array<() => void> = [];
  private nextId = 1;

  constructor(private readonly opts: ServeOptions) {
    const metrics = new RelayMetrics(() => this.consumers);
    this.fanout = new Fanout(metrics, opts.log, 5000, this.consumers);
  }

  async listen(): Promise<this> {
    const { path, log } = this.opts;
    ensurePrivateDir(path);
    if (await claimSocketPath(path)) log.warn("removed a stale socket file", { path });
    const queueBytes = this.opts.queueBytes ?? 8 << 20;
    this.listener = Bun.listen<ConsumerConn | undefined>({
      unix: path,
      socket: {
        open: (socket) => {
          const c = new ConsumerConn(this.nextId++, socket, queueBytes);
          socket.data = c;
          this.fanout.add(c);
        },
        data: (socket, data) => {
          if (socket.data) this.fanout.onData(socket.data, data);
          this.wake();
        },
        drain: (socket) => {
          if (socket.data) this.fanout.onDrain(socket.data);
          this.wake();
        },
        close: (socket, error) => {
          if (socket.data) this.fanout.remove(socket.data, error ? error.message : "closed");
          this.wake();
        },
        error: (socket, error) => {
          log.limited("error", "replay-consumer-error", "consumer socket error", {
            consumer: socket.data?.id,
            error,
          });
        },
      },
    });
    return this;
  }

  get connected(): number {
    return this.consumers.length;
  }

  /** Resolves once `n` consumers are connected and past their hold (filter line sent, or 500 ms). */
  async waitForConsumers(n: number): Promise<void> {
    while (this.consumers.length < n || this.consumers.some((c) => c.holding)) await this.event(50);
  }

  room(bytes: number): Promise<void> | null {
    if (this.hasRoom(bytes)) return null;
    return (async () => {
      while (!this.hasRoom(bytes)) await this.event(50);
    })();
  }

  send(frames: Uint8Array): void {
    const batch = this.batch;
    batch.reset();
    batch.borrow(frames, 0, frames.byteLength);
    this.fanout.distribute(batch);
  }

  async finish(): Promise<void> {
    while (this.consumers.some((c) => !c.cutting && (c.ring.size > 0 || c.waitingDrain || c.holding)))
      await this.event(50);
    this.stop();
  }

  stop(): void {
    if (!this.listener) return;
    for (const c of [...this.consumers]) c.socket.end();
    this.listener.stop(true);
    this.fanout.close();
    this.listener = null;
    const error = removeSocketFile(this.opts.path);
    if (error) this.opts.log.error("could not remove socket file", { path: this.opts.path, error });
  }

  /** Every consumer can take `bytes` more without its queue overflowing (nobody is ever cut). */
  private hasRoom(bytes: number): boolean {
    for (const c of this.consumers) if (!c.cutting && c.ring.size + bytes > c.limit) return false;
    return true;
  }

  /** The next socket event (data, drain, close), or `ms` at most (a hold ending has no event). */
  private event(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakers.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const wakers = this.wakers;
    if (wakers.length === 0) return;
    this.wakers = [];
    for (const w of wakers) w();
  }
}
