// A minimal producer for tests, tools and benchmarks (the collectors have their own sink in collectors/core):
// frames are copied into a preallocated ring and written in batches; partial writes continue on drain.
import type { Socket } from "bun";
import { FRAME_SIZE } from "../schema/frame.ts";
import { FrameRing } from "./ring.ts";

export interface RelayProducerOptions {
  /** The relay's ingest socket (TAPEWIRE_RELAY_IN). */
  path: string;
  /** Ring size (default 4 MiB); send() refuses frames that do not fit. */
  bufferBytes?: number;
  onDisconnect?(reason: string): void;
}

export interface RelayProducer {
  readonly connected: boolean;
  /** Bytes waiting in the ring. */
  readonly queued: number;
  /** Frames send() refused because the ring was full (the caller still holds them). */
  readonly refused: number;
  /** Frames accepted into the ring. */
  readonly sent: number;
  /** Copy `length` bytes (whole frames) from `bytes` at `offset`; returns false, taking nothing, if full. */
  send(bytes: Uint8Array, offset?: number, length?: number): boolean;
  /** Write now instead of at the end of the current task. */
  flush(): void;
  /** Resolves when everything queued has been taken by the kernel. */
  drained(): Promise<void>;
  /** Drain, then close. */
  close(): Promise<void>;
  /** close(), for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

class Producer implements RelayProducer {
  private socket: Socket<undefined> | null = null;
  private readonly ring: FrameRing;
  private scheduled = false;
  private waiters: Array<() => void> = [];
  refused = 0;
  sent = 0;

  constructor(private readonly opts: RelayProducerOptions) {
    this.ring = new FrameRing(opts.bufferBytes ?? 4 << 20);
  }

  get connected(): boolean {
    return this.socket !== null;
  }
  get queued(): number {
    return this.ring.size;
  }

  async open(): Promise<this> {
    await Bun.connect({
      unix: this.opts.path,
      socket: {
        open: (socket) => {
          this.socket = socket;
        },
        drain: () => this.flush(),
        close: (socket, error) => {
          if (this.socket !== socket) return;
          this.socket = null;
          this.opts.onDisconnect?.(error ? error.message : "closed");
          this.wake();
        },
        data: () => {},
      },
    });
    return this;
  }

  send(bytes: Uint8Array, offset = 0, length = bytes.byteLength - offset): boolean {
    if (length % FRAME_SIZE !== 0)
      throw new RangeError(`send length ${length} is not a multiple of ${FRAME_SIZE}`);
    if (length > this.ring.free) {
      this.refused += length / FRAME_SIZE;
      return false;
    }
    this.ring.push(bytes, offset, length);
    this.sent += length / FRAME_SIZE;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
    return true;
  }

  flush(): void {
    this.scheduled = false;
    const socket = this.socket;
    if (!socket) return;
    const done = this.ring.writeTo(socket);
    if (done !== false) this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const w of waiters) w();
  }

  drained(): Promise<void> {
    if (this.ring.size === 0 || !this.socket) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.flush();
    await this.drained();
    this.socket?.end();
    this.socket = null;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Connect to the relay's ingest socket; rejects if the relay is not there. */
export function connectRelayProducer(opts: RelayProducerOptions): Promise<RelayProducer> {
  return new Producer(opts).open();
}
