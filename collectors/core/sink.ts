// The collector's side of the relay ingest socket: one owner, a preallocated ring of frames, batched writes,
// partial writes resumed on drain, reconnect by itself. While the relay is away the ring keeps up to its
// capacity; beyond that new frames are dropped (counted, and visible downstream as a sequence gap).
import type { Socket } from "bun";
import type { Logger } from "../../lib/log.ts";
import { FRAME_SIZE } from "../../schema/frame.ts";
import type { FrameOutput } from "./emitter.ts";

export interface RelaySinkOptions {
  path: string;
  capacityFrames: number;
  log: Logger;
  onConnected?(connected: boolean): void;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export class RelaySink implements FrameOutput {
  private readonly ring: Uint8Array;
  private readonly capacity: number;
  /** Byte positions, monotonically increasing; the ring index is pos % capacity. */
  private head = 0;
  private tail = 0;
  private socket: Socket<undefined> | null = null;
  private flushScheduled = false;
  private closed = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  bytesWritten = 0;

  constructor(private readonly options: RelaySinkOptions) {
    this.capacity = options.capacityFrames * FRAME_SIZE;
    this.ring = new Uint8Array(this.capacity);
    this.connect();
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  /** Frames waiting to be written. */
  get buffered(): number {
    return Math.floor((this.tail - this.head) / FRAME_SIZE);
  }

  accept(bytes: Uint8Array, length: number): boolean {
    if (this.tail - this.head + length > this.capacity) return false;
    const at = this.tail % this.capacity;
    const first = Math.min(length, this.capacity - at);
    this.ring.set(bytes.subarray(0, first), at);
    if (first < length) this.ring.set(bytes.subarray(first, length), 0);
    this.tail += length;
    // Coalesce every message handled in this turn of the event loop into one write.
    if (!this.flushScheduled && this.socket) {
      this.flushScheduled = true;
      queueMicrotask(this.flushTask);
    }
    return true;
  }

  private readonly flushTask = () => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Write as much as the socket takes; the rest waits for drain. */
  private flush(): void {
    const socket = this.socket;
    if (!socket) return;
    while (this.head < this.tail) {
      const at = this.head % this.capacity;
      const end = Math.min(this.capacity, at + (this.tail - this.head));
      const wrote = socket.write(this.ring.subarray(at, end));
      if (wrote <= 0) return;
      this.head += wrote;
      this.bytesWritten += wrote;
      if (wrote < end - at) return; // kernel buffer full: drain() resumes
    }
  }

  private connect(): void {
    if (this.closed) return;
    Bun.connect<undefined>({
      unix: this.options.path,
      socket: {
        open: (socket) => {
          this.socket = socket;
          this.attempt = 0;
          this.options.log.info("relay connected", { path: this.options.path, buffered: this.buffered });
          this.options.onConnected?.(true);
          this.flush();
        },
        drain: () => this.flush(),
        data: () => {},
        close: () => this.lost("closed"),
        error: (_socket, error) => this.lost(error.message),
      },
    }).catch((error: Error) => this.retry(error.message));
  }

  private lost(reason: string): void {
    if (!this.socket) return;
    this.socket = null;
    // Bytes of a frame the old connection took only in part are sent again, whole, on the next one.
    this.head -= this.head % FRAME_SIZE;
    this.options.onConnected?.(false);
    this.options.log.warn("relay connection lost", { reason, buffered: this.buffered });
    this.retry(reason);
  }

  private retry(reason: string): void {
    if (this.closed || this.timer) return;
    const min = this.options.reconnectMinMs ?? 50;
    const max = this.options.reconnectMaxMs ?? 2000;
    const delay = Math.min(max, min * 2 ** this.attempt) * (0.5 + Math.random() * 0.5);
    this.attempt++;
    if (this.attempt === 1 || this.attempt % 20 === 0)
      this.options.log.info("relay not reachable, retrying", {
        path: this.options.path,
        reason,
        delayMs: Math.round(delay),
      });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  /** Try to deliver what is buffered, then close. */
  async close(timeoutMs = 1000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.socket && this.head < this.tail && Date.now() < deadline) {
      this.flush();
      await Bun.sleep(5);
    }
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.end();
    this.socket = null;
  }
}
