// The consumer side of the relay: connect to TAPEWIRE_RELAY_OUT, send a filter line, hand every 48-byte frame to
// onFrame without copying, and reconnect by itself (exponential backoff with jitter) whenever the relay goes away.
import { createLogger } from "../lib/log.ts";
import { nowNs } from "../schema/clock.ts";
import {
  EXCHANGE_NAMES,
  type ExchangeName,
  FRAME_ERROR_NAMES,
  type FrameError,
  frameExchange,
  frameKind,
  frameSeq,
  frameStatus,
  Kind,
  Status,
} from "../schema/frame.ts";
import { FrameStreamDecoder } from "../schema/stream.ts";
import { type ConsumerFilter, formatFilterLine, type KindName, type ResumePosition } from "./filter.ts";
import { SpinSocket, type SpinStats } from "./spin.ts";

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
  /**
   * Resume after every reconnect from where this consumer stopped (relay/README.md, "Resume"): it tracks the
   * next journal seq per exchange and sends it, with the time of its first connect for exchanges it has not
   * seen yet, so a cut slow consumer or a relay restart loses nothing the journal holds.
   */
  resume?: boolean;
  /** Where the first connection starts (default live): e.g. positions a database writer stored. */
  startFrom?: ResumePosition;
  /**
   * Latency mode (relay/README.md, "Spin mode"; off by default): read the socket by busy-polling instead of
   * sleeping in the event loop. Costs one whole CPU while connected; `true` spins in 1 ms slices with one
   * event-loop turn between them, `{ sliceMs }` sets the slice. Linux only (elsewhere: a warning, normal mode).
   */
  spin?: boolean | { sliceMs?: number };
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
  /** Next journal seq per exchange (the resume position), for exchanges seen so far. */
  readonly position: Partial<Record<ExchangeName, number>>;
  /** Spin mode's counters (polls that found nothing, reads, yields), or null when not spinning. */
  readonly spin: Readonly<SpinStats> | null;
  /** Replace the filter; sent at once if connected, else on the next connect. */
  setFilter(f: ConsumerFilter): void;
  /** Stop for good: close the socket and cancel any reconnect. */
  close(): void;
  /** close(), for `using`. */
  [Symbol.dispose](): void;
}

const encoder = new TextEncoder();
const log = createLogger({ service: "relay-client" });

/** What the consumer needs of its connection: a Bun socket, or a SpinSocket in spin mode. */
interface Wire {
  write(bytes: Uint8Array): number;
  end(): void;
}

class Consumer implements RelayConsumer {
  private socket: Wire | null = null;
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
  /** Next journal seq per exchange code (-1 = not seen), when resuming. */
  private readonly next = new Float64Array(16).fill(-1);
  private readonly handler: (view: DataView, offset: number) => void;
  private readonly createdNs = String(BigInt(Math.floor(nowNs())));
  readonly spin: SpinStats | null;
  private readonly sliceMs: number;

  constructor(private readonly opts: RelayConsumerOptions) {
    this.filter = opts.filter ?? {};
    this.minMs = opts.reconnectMinMs ?? 50;
    this.maxMs = opts.reconnectMaxMs ?? 2000;
    this.delay = this.minMs;
    this.handler = opts.resume ? this.tracking : opts.onFrame;
    this.decoder = new FrameStreamDecoder(this.handler, this.onInvalid);
    const spin = opts.spin ?? false;
    this.sliceMs = typeof spin === "object" ? (spin.sliceMs ?? 1) : 1;
    if (spin !== false && process.platform !== "linux") {
      log.warn("spin mode needs Linux; reading in the normal (event loop) mode", {
        platform: process.platform,
      });
      this.spin = null;
    } else {
      this.spin = spin === false ? null : { polls: 0, reads: 0, yields: 0 };
    }
    // A spin connect is synchronous: deferred so onConnect never runs before this constructor's caller has
    // the consumer in hand (as with Bun.connect).
    if (this.spin !== null) queueMicrotask(() => this.connect());
    else this.connect();
  }

  /** onFrame, keeping the resume position: every frame but SlowConsumer moves its exchange to seq + 1. */
  private readonly tracking = (view: DataView, offset: number): void => {
    if (frameKind(view, offset) !== Kind.Status || frameStatus(view, offset) !== Status.SlowConsumer)
      this.next[frameExchange(view, offset)] = (frameSeq(view, offset) + 1) % 4294967296;
    this.opts.onFrame(view, offset);
  };

  get position(): Partial<Record<ExchangeName, number>> {
    const out: Partial<Record<ExchangeName, number>> = {};
    for (let ex = 1; ex < 16; ex++) {
      const name = EXCHANGE_NAMES[ex];
      if (name !== undefined && this.next[ex]! >= 0) out[name] = this.next[ex]!;
    }
    return out;
  }

  /** Where this connection should start: the caller's start on the first, the tracked position after. */
  private resumeLine(): ResumePosition | undefined {
    if (this.connects === 1) return this.opts.startFrom;
    if (!this.opts.resume) return undefined;
    return { from: this.position, fromTime: this.opts.startFrom?.fromTime ?? this.createdNs };
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  /** A frame the codec refuses (validateFrame): skipped, counted in `invalid`, logged (rate-limited). */
  private readonly onInvalid = (error: FrameError): void => {
    log.limited("warn", "invalid", "invalid frame from relay skipped", {
      path: this.opts.path,
      reason: FRAME_ERROR_NAMES[error],
      invalid: this.invalid,
    });
  };

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

  [Symbol.dispose](): void {
    this.close();
  }

  private opened(socket: Wire): void {
    this.socket = socket;
    this.connects++;
    this.delay = this.minMs;
    this.framesBefore += this.decoder.frames;
    this.invalidBefore += this.decoder.errors;
    this.decoder = new FrameStreamDecoder(this.handler, this.onInvalid);
    this.sendLine(socket, false);
    this.opts.onConnect?.();
  }

  private lost(socket: Wire, error: Error | null | undefined): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.pendingOut = null;
    this.opts.onDisconnect?.(error ? `error: ${error.message}` : "closed by relay");
    this.scheduleReconnect();
  }

  /** Spin mode: a libc socket read by busy-polling (relay/spin.ts); a failed connect retries with backoff. */
  private connectSpin(stats: SpinStats): void {
    let socket: SpinSocket;
    // One view over the spin socket's read buffer, made on its first read: frames are checked in place.
    let view: DataView | null = null;
    try {
      socket = SpinSocket.connect(
        this.opts.path,
        {
          data: (chunk, length) => {
            if (view === null || view.buffer !== chunk.buffer) view = new DataView(chunk.buffer);
            this.decoder.push(chunk, length, view);
          },
          drain: () => this.flush(socket),
          close: (error) => this.lost(socket, error),
        },
        { sliceMs: this.sliceMs, stats },
      );
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.opened(socket);
  }

  private connect(): void {
    this.timer = null;
    if (this.closed) return;
    if (this.spin !== null) {
      this.connectSpin(this.spin);
      return;
    }
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
          this.opened(socket);
        },
        data: (_socket, data) => this.decoder.push(data),
        drain: (socket) => this.flush(socket),
        close: (socket, error) => this.lost(socket, error),
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
  private sendLine(socket: Wire, always: boolean): void {
    const f = this.filter;
    const hasFilter = Boolean(f.exchanges?.length || f.instruments?.length || f.kinds?.length);
    const resume = always ? undefined : this.resumeLine();
    if (!always && !hasFilter && this.opts.name === undefined && resume === undefined) return;
    const line = encoder.encode(formatFilterLine(this.filter, this.opts.name, resume));
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

  private flush(socket: Wire): void {
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
