// Spin mode for a relay consumer (relay/client.ts, `spin: true`): the socket is libc's, opened through bun:ffi,
// and read by busy-polling recv(MSG_DONTWAIT) instead of sleeping in epoll until Bun's event loop wakes the
// process. On this 2-vCPU VM a wake-up costs tens of µs (uds.c pingpong: ~4 µs round trips busy-polling
// against ~70 µs blocking); a spinning consumer pays for that with one whole CPU while it runs.
// The loop spins for `sliceMs`, then yields one event-loop turn (setImmediate), so timers, other sockets and
// the rest of the program still run; a frame that lands during that turn waits for it.
import { dlopen, FFIType, ptr, read } from "bun:ffi";

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const EINTR = 4;
const EAGAIN = 11;
const EINPROGRESS = 115;
/** sizeof(struct sockaddr_un) on Linux: sa_family_t + 108 bytes of path. */
const SOCKADDR_UN = 110;

type Libc = ReturnType<typeof openLibc>;
function openLibc() {
  return dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64_fast },
    send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64_fast },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}
let libc: Libc | null = null;
/** Spin mode needs Linux's libc; elsewhere connectSpin throws SpinUnsupported and the caller says so. */
export class SpinUnsupported extends Error {
  override readonly name = "SpinUnsupported";
}
function lib(): Libc {
  if (libc) return libc;
  if (process.platform !== "linux")
    throw new SpinUnsupported(`spin mode needs Linux (this is ${process.platform})`);
  libc = openLibc();
  return libc;
}
const errno = (l: Libc): number => read.i32(l.__errno_location()!, 0);

export interface SpinHandlers {
  /** Bytes [0, length) of `chunk` (a buffer reused for the next read: consume before returning). */
  data(chunk: Uint8Array, length: number): void;
  /** The connection ended (EOF or an error); the socket is closed already. */
  close(error: Error | null): void;
  /** The socket takes bytes again after a partial send. */
  drain(): void;
}

export interface SpinStats {
  /** recv calls that found nothing (the spinning). */
  polls: number;
  /** recv calls that returned data. */
  reads: number;
  /** Event-loop turns yielded between slices. */
  yields: number;
}

/** One spinning connection: write() like a Bun socket (returns bytes taken, -1 when closed), end(). */
export class SpinSocket {
  private fd: number;
  private readonly buf: Uint8Array;
  private readonly bufPtr: number;
  private closed = false;
  private wantDrain = false;
  private scheduled = false;

  private constructor(
    private readonly l: Libc,
    fd: number,
    private readonly handlers: SpinHandlers,
    private readonly sliceMs: number,
    readonly stats: SpinStats,
    readBytes: number,
  ) {
    this.fd = fd;
    this.buf = new Uint8Array(new ArrayBuffer(readBytes));
    this.bufPtr = ptr(this.buf);
    this.schedule();
  }

  /** Connect to a Unix socket; throws (ENOENT, ECONNREFUSED, EAGAIN: backlog full) when it cannot now. */
  static connect(
    path: string,
    handlers: SpinHandlers,
    opts: { sliceMs?: number; readBytes?: number; stats?: SpinStats } = {},
  ): SpinSocket {
    const l = lib();
    const pathBytes = new TextEncoder().encode(path);
    if (pathBytes.byteLength > SOCKADDR_UN - 3)
      throw new Error(`socket path too long for sockaddr_un: ${path}`);
    const addr = new Uint8Array(new ArrayBuffer(SOCKADDR_UN));
    addr[0] = AF_UNIX; // little-endian u16 sun_family
    addr.set(pathBytes, 2);
    const fd = l.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`socket() failed: errno ${errno(l)}`);
    if (l.connect(fd, ptr(addr), 2 + pathBytes.byteLength + 1) !== 0) {
      const e = errno(l);
      // A Unix socket connects at once or not at all (EINPROGRESS does not happen; treat it as failure too).
      l.close(fd);
      throw new Error(
        `connect ${path}: errno ${e}${e === EAGAIN || e === EINPROGRESS ? " (backlog full)" : ""}`,
      );
    }
    const stats = opts.stats ?? { polls: 0, reads: 0, yields: 0 };
    return new SpinSocket(l, fd, handlers, opts.sliceMs ?? 1, stats, opts.readBytes ?? 256 * 1024);
  }

  /** Send what the socket takes now; the caller keeps the rest and sends it on drain (like Bun's write). */
  write(bytes: Uint8Array): number {
    if (this.closed) return -1;
    if (bytes.byteLength === 0) return 0;
    const n = Number(this.l.send(this.fd, ptr(bytes), bytes.byteLength, MSG_DONTWAIT | MSG_NOSIGNAL));
    if (n >= 0) {
      if (n < bytes.byteLength) this.wantDrain = true;
      return n;
    }
    const e = errno(this.l);
    if (e === EAGAIN || e === EINTR) {
      this.wantDrain = true;
      return 0;
    }
    this.finish(new Error(`send: errno ${e}`));
    return -1;
  }

  end(): void {
    this.finish(null, false);
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(this.slice);
  }

  /** Spin for one slice: recv until it has been sliceMs, then give the event loop one turn. */
  private readonly slice = (): void => {
    this.scheduled = false;
    if (this.closed) return;
    const l = this.l;
    const stats = this.stats;
    const deadline = performance.now() + this.sliceMs;
    for (let i = 0; ; i++) {
      const n = Number(l.recv(this.fd, this.bufPtr, this.buf.byteLength, MSG_DONTWAIT));
      if (n > 0) {
        stats.reads++;
        this.handlers.data(this.buf, n);
        if (this.closed) return; // the handler ended the connection
      } else if (n === 0) {
        this.finish(null);
        return;
      } else {
        const e = errno(l);
        if (e !== EAGAIN && e !== EINTR) {
          this.finish(new Error(`recv: errno ${e}`));
          return;
        }
        stats.polls++;
        if (this.wantDrain) {
          // A partial send waits for room; try it again between polls.
          this.wantDrain = false;
          this.handlers.drain();
          if (this.closed) return;
        }
      }
      if ((i & 63) === 63 && performance.now() >= deadline) break;
    }
    stats.yields++;
    this.schedule();
  };

  private finish(error: Error | null, notify = true): void {
    if (this.closed) return;
    this.closed = true;
    this.l.close(this.fd);
    this.fd = -1;
    if (notify) this.handlers.close(error);
  }
}
