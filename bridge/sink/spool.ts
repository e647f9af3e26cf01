// The local spool: batches the database could not take, on disk, in order, until it can. Append-only segment
// files ("<seq>.batches", spool-format.ts), each append fsync'd before it counts as spooled. Segments replay
// oldest first, each as one transaction with the relay positions it holds; a segment the database refuses as
// bad data moves to rejected/ with its error. Files of the older one-table format ("<seq>-<table>.copy") from
// an earlier version are still replayed.

import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readdir, readFile, rename, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeSegment, encodeBatch, mergeBatches } from "./spool-format.ts";
import { TABLE_NAMES } from "./tables.ts";
import { type Batch, batchBytes, type TableName } from "./types.ts";

export interface SpoolSegment {
  readonly name: string;
  /** Set for a file of the older format: raw COPY text of this one table. */
  readonly legacyTable?: TableName;
  bytes: number;
}

const SEGMENT_RE = /^(\d{16})\.batches$/;
const LEGACY_RE = new RegExp(`^(\\d{16})-(${TABLE_NAMES.join("|")})\\.copy$`);

export class Spool {
  private readonly segments: SpoolSegment[] = [];
  private current: { seg: SpoolSegment; fh: FileHandle } | undefined;
  private nextSeq = 1;
  /** Every file operation runs in this chain, one at a time, in call order. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Bytes handed to append() and not yet on disk. */
  pendingBytes = 0;
  /** Bytes on disk waiting for the database. */
  bytes = 0;
  private rejectedCount = 0;
  /** The error of the append that failed, while later appends are refused (see append). */
  private failure: unknown = null;

  constructor(
    readonly dir: string,
    private readonly segmentBytes = 16 << 20,
  ) {}

  get files(): number {
    return this.segments.length;
  }

  /** Find segments left by an earlier run; a torn last append (a crash mid-write) is cut off. */
  async init(): Promise<void> {
    await mkdir(join(this.dir, "rejected"), { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => SEGMENT_RE.test(n) || LEGACY_RE.test(n)).sort();
    for (const name of names) {
      const legacy = LEGACY_RE.exec(name);
      const path = join(this.dir, name);
      const data = await readFile(path);
      let whole: number;
      if (legacy) {
        whole = data.lastIndexOf(10) + 1;
      } else {
        const decoded = decodeSegment(data);
        whole = decoded.whole;
        if (decoded.damage) {
          // Keep the unreadable rest for a person; replay what is whole.
          await writeFile(join(this.dir, "rejected", `${name}.damaged`), data.subarray(whole));
          await writeFile(join(this.dir, "rejected", `${name}.damaged.error.txt`), `${decoded.damage}\n`);
        }
      }
      if (whole < data.length) await truncate(path, whole);
      if (whole === 0) {
        await unlink(path);
        continue;
      }
      const seq = Number((legacy ?? SEGMENT_RE.exec(name))![1]);
      this.segments.push({ name, legacyTable: legacy?.[2] as TableName | undefined, bytes: whole });
      this.bytes += whole;
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
  }

  /**
   * Append a batch durably; resolves once it is fsync'd. Appends keep their call order, and after one fails
   * (a full disk) every later one fails too, without trying, until clearFailure(): so the batches the caller
   * keeps elsewhere instead are exactly the newest ones, never a hole in the middle of the spool.
   */
  append(batch: Batch): Promise<void> {
    const size = batchBytes(batch);
    this.pendingBytes += size;
    return this.run(async () => {
      try {
        if (this.failure) throw this.failure;
        await this.appendNow(encodeBatch(batch));
      } catch (error) {
        this.failure ??= error;
        throw error;
      } finally {
        this.pendingBytes -= size;
      }
    });
  }

  /** Let appends try the disk again (after the caller stored what the spool refused). */
  clearFailure(): void {
    this.failure = null;
  }

  private async appendNow(buf: Uint8Array): Promise<void> {
    let o = this.current;
    if (!o) {
      const name = `${String(this.nextSeq++).padStart(16, "0")}.batches`;
      const fh = await open(join(this.dir, name), "a");
      o = { seg: { name, bytes: 0 }, fh };
      this.current = o;
      this.segments.push(o.seg);
      await syncDir(this.dir);
    }
    try {
      await o.fh.write(buf);
      await o.fh.sync();
    } catch (error) {
      // Never leave a torn batch for later appends to follow: cut back, and start a new file next time.
      await o.fh.truncate(o.seg.bytes).catch(() => {});
      await this.closeCurrent().catch(() => {});
      throw error;
    }
    o.seg.bytes += buf.byteLength;
    this.bytes += buf.byteLength;
    if (o.seg.bytes >= this.segmentBytes) await this.closeCurrent();
  }

  private async closeCurrent(): Promise<void> {
    const o = this.current;
    if (!o) return;
    this.current = undefined;
    await o.fh.close();
  }

  /** The oldest segment, closed for appends so it can be replayed whole; undefined when the spool is empty. */
  oldest(): Promise<SpoolSegment | undefined> {
    return this.run(async () => {
      const seg = this.segments[0];
      if (seg && this.current?.seg === seg) await this.closeCurrent();
      return seg;
    });
  }

  /** The segment's batches as one (rows in order, the last positions). */
  async read(seg: SpoolSegment): Promise<Batch> {
    const data = await readFile(join(this.dir, seg.name));
    if (seg.legacyTable) {
      let rows = 0;
      for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) rows++;
      return { parts: [{ table: seg.legacyTable, rows, data }], positions: [] };
    }
    return mergeBatches(decodeSegment(data).batches);
  }

  /** The segment is in the database: delete it. */
  remove(seg: SpoolSegment): Promise<void> {
    return this.run(async () => {
      await unlink(join(this.dir, seg.name));
      this.forget(seg);
    });
  }

  /** The database refuses the segment as bad data: keep it beside its error for a person to look at. */
  reject(seg: SpoolSegment, error: Error): Promise<void> {
    return this.run(async () => {
      await rename(join(this.dir, seg.name), join(this.dir, "rejected", seg.name));
      await writeFile(
        join(this.dir, "rejected", `${seg.name}.error.txt`),
        `${error.name}: ${error.message}\n`,
      );
      this.forget(seg);
    });
  }

  /** A batch the database refused before it ever reached the spool. */
  async rejectBatch(batch: Batch, error: Error): Promise<void> {
    const name = `${Date.now()}-${++this.rejectedCount}.batches`;
    return this.run(async () => {
      await writeFile(join(this.dir, "rejected", name), encodeBatch(batch));
      await writeFile(join(this.dir, "rejected", `${name}.error.txt`), `${error.name}: ${error.message}\n`);
    });
  }

  private forget(seg: SpoolSegment): void {
    const i = this.segments.indexOf(seg);
    if (i >= 0) this.segments.splice(i, 1);
    this.bytes -= seg.bytes;
  }

  /** Wait for every append so far, then close the open segment. */
  close(): Promise<void> {
    return this.run(() => this.closeCurrent());
  }

  private run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.chain.then(op);
    this.chain = next.catch(() => {});
    return next;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
