// Reads of a busy collector socket into one reused buffer. Bun hands every socket read to the data callback as
// a fresh buffer: a copy of the read (up to a socket buffer, ~224 KB at full rate) into new memory, whose page
// faults cost the relay 17-28% of its CPU at max rate (BENCHMARKS.md, issue 14). After a large read the data
// callback goes on reading the same descriptor itself, recv(MSG_DONTWAIT) into this buffer, while the socket has
// more: the producer refills it while the relay handles a read, so at full rate most bytes come this way. The
// bytes stay in order (Bun hands over everything it read before the callback; nothing reads the descriptor
// meanwhile). An end of stream or an error is left to Bun: its next read sees it and closes the socket as
// before. Linux (x86_64, arm64) with libc only; elsewhere create() returns null and only Bun reads.
import { dlopen, FFIType, ptr } from "bun:ffi";

const MSG_DONTWAIT = 0x40;

function openLibc() {
  return dlopen("libc.so.6", {
    recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64_fast },
  }).symbols;
}

export class DrainReader {
  readonly buf: Uint8Array;
  private readonly at: number;
  /** recv calls that returned bytes, and their bytes (tests, metrics). */
  reads = 0;
  bytes = 0;
  /** recv calls that found the socket empty (EAGAIN) or ended/failed (left to Bun). */
  empty = 0;

  private constructor(
    private readonly libc: ReturnType<typeof openLibc>,
    bytes: number,
  ) {
    this.buf = new Uint8Array(new ArrayBuffer(bytes));
    this.at = ptr(this.buf);
  }

  /** A reader with a buffer of `bytes`, or null where it cannot work (not Linux, no libc). */
  static create(bytes = 1 << 20): DrainReader | null {
    if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) return null;
    try {
      return new DrainReader(openLibc(), bytes);
    } catch {
      return null;
    }
  }

  /**
   * Read what socket `fd` holds now into `buf`, without waiting: the bytes read (valid until the next call),
   * or 0: nothing there now, the end of the stream, or an error, each left to Bun's next read.
   */
  recv(fd: number): number {
    const n = Number(this.libc.recv(fd, this.at, this.buf.byteLength, MSG_DONTWAIT));
    if (n > 0) {
      this.reads++;
      this.bytes += n;
      return n;
    }
    this.empty++;
    return 0;
  }
}
