// The direct writes of one fan-out in one syscall (Linux AIO: io_submit of one write per consumer socket).
// Why: a write to a consumer's Unix socket wakes that consumer, and the kernel places the wakee on the relay's
// own CPU (a socket wake-up is a "sync" one: the waker is expected to sleep next) and preempts the relay when it
// returns to user mode. With one send() per consumer the relay was preempted after the first write of most reads
// at 10k msg/s (nonvoluntary context switches on 50-70% of reads), so every later consumer waited for the
// first one's whole wake-up. In one io_submit every consumer's bytes are queued and woken before the relay
// returns to user mode. For a socket the kernel runs each write inside io_submit (sock_write_iter, non-blocking
// with RWF_NOWAIT), so it is complete when the call returns; the completions are read from the AIO ring in user
// memory (no second syscall). Linux x86_64 / arm64 with libc only; elsewhere create() returns null and the
// caller writes one socket at a time, as before.
import { dlopen, FFIType, ptr, toArrayBuffer } from "bun:ffi";

/** io_setup / io_destroy / io_submit per architecture (asm-generic for arm64). */
const SYSCALLS: Record<string, { setup: number; destroy: number; submit: number }> = {
  x64: { setup: 206, destroy: 207, submit: 209 },
  arm64: { setup: 0, destroy: 1, submit: 2 },
};
const IOCB_CMD_PWRITE = 1;
/** Never block in the write, whatever the descriptor's flags (sockets support it). */
const RWF_NOWAIT = 0x8;
const IOCB_SIZE = 64;
const EVENT_SIZE = 32;
const RING_HEADER = 32;
const AIO_RING_MAGIC = 0xa10a10a1;
const EAGAIN = 11;
const TWO32 = 4294967296;

function openLibc() {
  return dlopen("libc.so.6", {
    syscall: {
      args: [FFIType.i64_fast, FFIType.i64_fast, FFIType.i64_fast, FFIType.i64_fast],
      returns: FFIType.i64_fast,
    },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

/**
 * Up to `capacity` socket writes queued with add(), then sent by one submit(); result(i) is what write i
 * took (bytes, 0 when the socket buffer was full), a negative errno (the socket is closing), or NaN when its
 * completion was not in the ring after the call (the caller must treat the write as not made).
 */
export class MultiWriter {
  private readonly iocbs: Uint32Array;
  private readonly iocbsAt: number;
  private readonly list: Uint32Array;
  private readonly listAt: number;
  private readonly ring: Uint32Array;
  private readonly results: Float64Array;
  private count = 0;
  /**
   * This submit's number, in the high word of each write's aio_data: a completion that arrives after its own
   * submit was reaped (an asynchronous one) is skipped, never taken for a later submit's write of that index.
   */
  private generation = 0;
  /** Writes sent, io_submit calls (for tests and metrics). */
  writes = 0;
  submits = 0;

  private constructor(
    private readonly libc: ReturnType<typeof openLibc>,
    private readonly nr: { submit: number; destroy: number },
    private readonly ctx: number,
    readonly capacity: number,
  ) {
    this.iocbs = new Uint32Array(new ArrayBuffer(capacity * IOCB_SIZE));
    this.iocbsAt = ptr(this.iocbs);
    this.list = new Uint32Array(new ArrayBuffer(capacity * 8));
    this.listAt = ptr(this.list);
    for (let i = 0; i < capacity; i++) {
      const at = this.iocbsAt + i * IOCB_SIZE;
      this.list[i * 2] = at % TWO32;
      this.list[i * 2 + 1] = Math.floor(at / TWO32);
    }
    const ringBytes = new Uint32Array(toArrayBuffer(ctx, 0, RING_HEADER));
    this.ring = new Uint32Array(toArrayBuffer(ctx, 0, RING_HEADER + ringBytes[1]! * EVENT_SIZE));
    this.results = new Float64Array(capacity);
  }

  /** A writer for up to `capacity` sockets per submit, or null where Linux AIO is not available. */
  static create(capacity = 64): MultiWriter | null {
    const nr = SYSCALLS[process.arch];
    if (process.platform !== "linux" || nr === undefined) return null;
    try {
      const libc = openLibc();
      const out = new Uint32Array(new ArrayBuffer(8));
      // Room for two submits' completions, so a ring never fills between reaps.
      if (Number(libc.syscall(nr.setup, capacity * 2, ptr(out), 0)) !== 0) return null;
      const ctx = out[1]! * TWO32 + out[0]!;
      const w = new MultiWriter(libc, nr, ctx, capacity);
      if (w.ring[4]! !== AIO_RING_MAGIC || w.ring[6]! !== 0) {
        w.close();
        return null;
      }
      return w;
    } catch {
      return null;
    }
  }

  get queued(): number {
    return this.count;
  }

  /** Queue a write of `length` bytes of `bytes` from `start` to descriptor `fd`; false when full. */
  add(fd: number, bytes: Uint8Array, start: number, length: number): boolean {
    if (this.count === this.capacity) return false;
    const i = this.count++;
    if (i === 0) this.generation = (this.generation + 1) >>> 0;
    const w = this.iocbs;
    const o = (i * IOCB_SIZE) >>> 2;
    const at = ptr(bytes, start);
    w[o] = i; // aio_data: this write's index, and the submit's generation (new at each first add)
    w[o + 1] = this.generation;
    w[o + 2] = 0; // aio_key
    w[o + 3] = RWF_NOWAIT; // aio_rw_flags
    w[o + 4] = IOCB_CMD_PWRITE; // aio_lio_opcode (u16), aio_reqprio (s16) 0
    w[o + 5] = fd; // aio_fildes
    w[o + 6] = at % TWO32; // aio_buf
    w[o + 7] = Math.floor(at / TWO32);
    w[o + 8] = length; // aio_nbytes
    w[o + 9] = 0;
    w[o + 10] = 0; // aio_offset: a socket takes 0 only
    w[o + 11] = 0;
    w[o + 12] = 0; // aio_reserved2
    w[o + 13] = 0;
    w[o + 14] = 0; // aio_flags
    w[o + 15] = 0; // aio_resfd
    return true;
  }

  /**
   * Send every queued write in one io_submit. Returns how many were submitted (from the first; the rest
   * were not attempted: the caller writes them itself); their results are in result(i).
   */
  submit(): number {
    const n = this.count;
    this.count = 0;
    if (n === 0) return 0;
    // No completion read for a write leaves NaN, not the result of an earlier submit's write of that index.
    this.results.fill(Number.NaN, 0, n);
    const done = Number(this.libc.syscall(this.nr.submit, this.ctx, n, this.listAt));
    this.submits++;
    if (done <= 0) return 0;
    this.writes += done;
    this.reap();
    return done;
  }

  /** Bytes write i took (0: the socket buffer was full), a negative errno, or NaN: no completion seen. */
  result(i: number): number {
    return this.results[i]!;
  }

  /** Completions in the ring not read yet (an asynchronous write's lands after its submit returned). */
  get unreaped(): number {
    const size = this.ring[1]!;
    return (this.ring[3]! - this.ring[2]! + size) % size;
  }

  /** Read the completions from the ring in user memory and free their slots (no syscall). */
  private reap(): void {
    const ring = this.ring;
    const size = ring[1]!;
    let head = ring[2]!;
    const tail = ring[3]!;
    while (head !== tail) {
      const e = (RING_HEADER + head * EVENT_SIZE) >>> 2;
      const lo = ring[e + 4]!;
      const hi = ring[e + 5]! | 0;
      const res = hi * TWO32 + lo;
      const i = ring[e]!;
      if (ring[e + 1] === this.generation && i < this.capacity) this.results[i] = res === -EAGAIN ? 0 : res;
      head = head + 1 === size ? 0 : head + 1;
    }
    ring[2] = head;
  }

  close(): void {
    this.libc.syscall(this.nr.destroy, this.ctx, 0, 0);
  }
}
