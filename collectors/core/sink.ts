// The collector's side of the relay ingest socket: one owner, a preallocated ring of frames, batched writes,
// partial writes resumed on drain, reconnect by itself, and acknowledged delivery (relay/README.md,
// "Acknowledged ingest"): the relay writes Status Ack frames back with the highest seq it has journaled; the
// ring keeps every frame from the oldest unacknowledged one, and after a reconnect sends again from there (the
// relay drops what it already has by seq). When the ring is full, frames already written but not yet
// acknowledged are evicted oldest-first (counted) to make room; frames never written are never evicted: new
// frames are dropped instead (counted, and visible downstream as a sequence gap).
import type { Socket } from "bun";
import type { Logger } from "../../lib/log.ts";
import {
  FRAME_SIZE,
  FrameOffset,
  frameKind,
  frameSeq,
  frameStatus,
  Kind,
  Status,
} from "../../schema/frame.ts";
import { FrameStreamDecoder } from "../../schema/stream.ts";
import type { FrameOutput } from "./emitter.ts";

export interface RelaySinkOptions {
  path: string;
  capacityFrames: number;
  log: Logger;
  onConnected?(connected: boolean): void;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

const HALF_RANGE = 2 ** 31;

export class RelaySink implements FrameOutput {
  private readonly ring: Uint8Array;
  private readonly ringView: DataView;
  private readonly capacity: number;
  // Byte positions, monotonically increasing; the ring index is pos % capacity. acked ≤ head ≤ tail:
  // [acked, head) written, waiting for an ack; [head, tail) not written yet.
  private acked = 0;
  private head = 0;
  private tail = 0;
  private socket: Socket<undefined> | null = null;
  private flushScheduled = false;
  private closed = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** One per connection: acks arrive as 48-byte frames, possibly split across reads. */
  private decoder = this.newDecoder();
  bytesWritten = 0;
  /** Ack frames received. */
  acks = 0;
  /** Written but unacknowledged frames evicted to make room (at risk only if the relay also crashed). */
  evicted = 0;
  /** Frames sent again after a reconnect. */
  resent = 0;

  constructor(private readonly options: RelaySinkOptions) {
    this.capacity = options.capacityFrames * FRAME_SIZE;
    this.ring = new Uint8Array(this.capacity);
    this.ringView = new DataView(this.ring.buffer);
    this.connect();
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  /** Frames waiting to be written. */
  get buffered(): number {
    return Math.floor((this.tail - this.head) / FRAME_SIZE);
  }

  /** Frames written but not yet acknowledged by the relay. */
  get unacknowledged(): number {
    return Math.floor((this.head - this.acked) / FRAME_SIZE);
  }

  accept(bytes: Uint8Array, length: number): boolean {
    const over = this.tail - this.acked + length - this.capacity;
    if (over > 0) {
      // Make room from the written-but-unacknowledged part first; never from what was not written yet.
      const written = this.head - (this.head % FRAME_SIZE);
      const free = Math.min(written - this.acked, Math.ceil(over / FRAME_SIZE) * FRAME_SIZE);
      if (free < over) return false;
      this.acked += free;
      this.evicted += free / FRAME_SIZE;
    }
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

  private newDecoder(): FrameStreamDecoder {
    return new FrameStreamDecoder((view, off) => {
      if (frameKind(view, off) === Kind.Status && frameStatus(view, off) === Status.Ack)
        this.ack(frameSeq(view, off));
    });
  }

  /** Everything written up to collector seq `seq` is journaled: free it (modular u32 comparison). */
  private ack(seq: number): void {
    this.acks++;
    const written = this.head - (this.head % FRAME_SIZE);
    while (this.acked < written) {
      const frameSeqAt = this.ringView.getUint32((this.acked % this.capacity) + FrameOffset.seq, true);
      if ((seq - frameSeqAt) >>> 0 >= HALF_RANGE) break; // this frame is after the acknowledged one
      this.acked += FRAME_SIZE;
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
          this.decoder = this.newDecoder();
          this.options.log.info("relay connected", {
            path: this.options.path,
            buffered: this.buffered,
            unacknowledged: this.unacknowledged,
          });
          this.options.onConnected?.(true);
          this.flush();
        },
        drain: () => this.flush(),
        data: (_socket, data) => this.decoder.push(data),
        close: () => this.lost("closed"),
        error: (_socket, error) => this.lost(error.message),
      },
    }).catch((error: Error) => this.retry(error.message));
  }

  private lost(reason: string): void {
    if (!this.socket) return;
    this.socket = null;
    // Everything not acknowledged goes again, whole frames, on the next connection.
    const again = Math.floor((this.head - this.acked) / FRAME_SIZE);
    this.head = this.acked;
    this.resent += again;
    this.options.onConnected?.(false);
    this.options.log.warn("relay connection lost", {
      reason,
      buffered: this.buffered,
      resendFrames: again,
    });
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

  /** Try to deliver what is buffered (and have it acknowledged), then close. */
  async close(timeoutMs = 1000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.socket && this.acked < this.tail && this.acks > 0 && Date.now() < deadline) {
      this.flush();
      await Bun.sleep(5);
    }
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
