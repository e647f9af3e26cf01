// The consumer side of the relay: connect to TAPEWIRE_RELAY_OUT, send a filter line, hand every 48-byte frame to
// onFrame without copying, and reconnect by itself (exponential backoff with jitter) whenever the relay goes away.
import type { Socket } from "bun";
import { createLogger } from "../lib/log.ts";
import type { ExchangeName } from "../schema/frame.ts";
import { FrameStreamDecoder } from "../schema/stream.ts";
import { type ConsumerFilter, formatFilterLine, type KindName } from "./filter.ts";

export type { ConsumerFilter, ExchangeName, KindName };

export interface RelayConsumerOptions {
  /** The relay's consumer socket (TAPEWIRE_RELAY_OUT). */
  path: string;
  /** Shown in the relay's logs and metrics. */
  name?: string;
  filter?: ConsumerFilter;
  /** One valid frame; `view` is only valid during the call (copy what you keep). */
  onFrame(view: DataView, offset: number): void;
  onConnect?(): void;
  /** An established connection ended (relay gone, slow-consumer cut, error). Reconnecting follows. */
  onDisconnect?(reason: string): void;
  /** First retry delay (default 50 ms); doubles per failed attempt up to reconnectMaxMs (default 2000 ms). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export interface RelayConsumer {
  readonly connected: boolean;
  /** Valid frames delivered to onFrame since creation (across reconnects). */
  readonly frames: number;
  /** Frames that failed validateFrame and were skipped. */
  readonly invalid: number;
  /** Successful connections so far (1 after the first connect). */
  readonly connects: number;
  /** Replace the filter; sent at once if connected, else on the next connect. */
  setFilter(f: ConsumerFilter): void;
  /** Stop for good: close the socket and cancel any reconnect. */
  close(): void;
}

const encoder = new TextEncoder();
const log = createLogger({ service: "relay-client" });

class Consumer implements RelayConsumer {
  private socket: Socket<undefined> | null = null;
  private filter: ConsumerFilter;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delay: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  /** Bytes of a filter line the socket did not take yet; sent on drain. */
  private pendingOut: Uint8Array | null = null;
  /** One decoder per connection, so a partial frame from a dead connection is never glued to the next. */
  private decoder: FrameStreamDecoder;
  private framesBefore = 0;
  private invalidBefore = 0;
  connects = 0;

  constructor(private readonly opts: RelayConsumerOptions) {
    this.filter = opts.filter ?? {};
    this.minMs = opts.reconnectMinMs ?? 50;
    this.maxMs = opts.reconnectMaxMs ?? 2000;
    this.delay = this.minMs;
    this.decoder = new FrameStreamDecoder(opts.onFrame);
    this.connect();
  }

  get connected(): boolean {
    return this.socket !== null;
  }
  get frames(): number {
    return this.framesBefore + this.decoder.frames;
  }
  get invalid(): number {
    return this.invalidBefore + this.decoder.errors;
  }

  setFilter(f: ConsumerFilter): void {
    this.filter = f;
    if (this.socket) this.sendLine(this.socket, true);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    s?.end();
  }

  private connect(): void {
    this.timer = null;
    if (this.closed) return;
    let opened = false;
    Bun.connect({
      unix: this.opts.path,
      socket: {
        open: (socket) => {
          opened = true;
          if (this.closed) {
            socket.end();
            return;
          }
          this.socket = socket;
          this.connects++;
          this.delay = this.minMs;
          this.framesBefore += this.decoder.frames;
          this.invalidBefore += this.decoder.errors;
          this.decoder = new FrameStreamDecoder(this.opts.onFrame);
          this.sendLine(socket, false);
          this.opts.onConnect?.();
        },
        data: (_socket, data) => this.decoder.push(data),
        drain: (socket) => this.flush(socket),
        close: (socket, error) => {
          if (this.socket !== socket) return;
          this.socket = null;
          this.pendingOut = null;
          this.opts.onDisconnect?.(error ? `error: ${error.message}` : "closed by relay");
          this.scheduleReconnect();
        },
        error: (_socket, error) => {
          // Followed by close; onFrame throwing lands here too, so surface it.
          log.limited("error", "socket", "relay consumer socket error", { path: this.opts.path, error });
        },
      },
    }).catch(() => {
      if (!opened) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    // Full jitter in [delay/2, delay] so many consumers restarting together do not stampede the relay.
    const wait = this.delay / 2 + Math.random() * (this.delay / 2);
    this.delay = Math.min(this.delay * 2, this.maxMs);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  /** Send the filter line; on connect only when there is something to say (the relay's default is "all"). */
  private sendLine(socket: Socket<undefined>, always: boolean): void {
    const f = this.filter;
    const hasFilter = Boolean(f.exchanges?.length || f.instruments?.length || f.kinds?.length);
    if (!always && !hasFilter && this.opts.name === undefined) return;
    const line = encoder.encode(formatFilterLine(this.filter, this.opts.name));
    if (this.pendingOut) {
      const joined = new Uint8Array(this.pendingOut.byteLength + line.byteLength);
      joined.set(this.pendingOut);
      joined.set(line, this.pendingOut.byteLength);
      this.pendingOut = joined;
    } else {
      this.pendingOut = line;
    }
    this.flush(socket);
  }

  private flush(socket: Socket<undefined>): void {
    const out = this.pendingOut;
    if (!out) return;
    const n = socket.write(out);
    if (n < 0) return; // closing; close() handles the rest
    this.pendingOut = n >= out.byteLength ? null : out.subarray(n);
  }
}

/** Connect to the relay's consumer socket; it reconnects by itself until close(). */
export function connectRelayConsumer(opts: RelayConsumerOptions): RelayConsumer {
  return new Consumer(opts);
}
