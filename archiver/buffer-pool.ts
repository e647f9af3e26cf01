// Column buffers handed from one bulk-export batch to the next: a batch's decoded columns (copy-duck.ts) and
// the arrays made from them (batch-files.ts) are dead once its files are encoded, and the next batch needs
// the same sizes again. Fresh buffers of that size cost the kernel a page fault and a zeroed page every 4 KiB
// (~80 bytes a row, 1.9 s of CPU in bench:analytics' 13.6 s export); reused ones are already there.
// A reused buffer is not zeroed: its user writes every byte it reads.

export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private held = 0;
  /** `limit`: the most bytes kept free (beyond it, given-back buffers are dropped for the GC). */
  constructor(private readonly limit = 512 << 20) {}

  /** A buffer of at least `bytes` (the smallest free one that fits, else a new one). */
  take(bytes: number): ArrayBuffer {
    let best = -1;
    for (let k = 0; k < this.free.length; k++) {
      const b = this.free[k] as ArrayBuffer;
      if (b.byteLength >= bytes && (best < 0 || b.byteLength < (this.free[best] as ArrayBuffer).byteLength))
        best = k;
    }
    // Rounded up to 64 bytes: any typed array view fits over the whole buffer.
    if (best < 0) return new ArrayBuffer(Math.ceil(bytes / 64) * 64);
    const [b] = this.free.splice(best, 1) as [ArrayBuffer];
    this.held -= b.byteLength;
    return b;
  }

  /** Buffers no longer used by anyone (each given back once). */
  give(buffers: Iterable<ArrayBuffer>): void {
    for (const b of buffers) {
      if (b.byteLength % 64 !== 0 || this.held + b.byteLength > this.limit) continue;
      this.free.push(b);
      this.held += b.byteLength;
    }
  }

  /** Bytes kept free. */
  get bytes(): number {
    return this.held;
  }
}
