// The local spool: batches the database could not take, on disk, in order, until it can. Append-only segment
// files of COPY text (one table per file, "<seq>-<table>.copy"), each append fsync'd before it counts as spooled.
// Segments replay oldest first; a segment the database refuses as bad data moves to rejected/ with its error.

import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readdir, readFile, rename, stat, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Batch, TABLE_NAMES, type TableName } from "./types.ts";

export interface SpoolSegment {
  readonly name: string;
  readonly table: TableName;
  bytes: number;
}

const SEGMENT_RE = /^(\d{16})-(trades|book_tops|feed_events)\.copy$/;

export class Spool {
  private readonly segments: SpoolSegment[] = [];
  private readonly open: Partial<Record<TableName, { seg: SpoolSegment; fh: FileHandle }>> = {};
  private nextSeq = 1;
  /** Every file operation runs in this chain, one at a time, in call order. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Bytes handed to append() and not yet on disk. */
  pendingBytes = 0;
  /** Bytes on disk waiting for the database. */
  bytes = 0;
  private rejectedCount = 0;

  constructor(
    readonly dir: string,
    private readonly segmentBytes = 16 << 20,
  ) {}

  get files(): number {
    return this.segments.length;
  }

  /** Find segments left by an earlier run; a torn last line (a crash mid-append) is cut off. */
  async init(): Promise<void> {
    await mkdir(join(this.dir, "rejected"), { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    for (const name of names) {
      const m = SEGMENT_RE.exec(name)!;
      const path = join(this.dir, name);
      let bytes = (await stat(path)).size;
      const data = await readFile(path);
      const whole = data.lastIndexOf(10) + 1;
      if (whole < data.length) {
        await truncate(path, whole);
        bytes = whole;
      }
      if (bytes === 0) {
        await unlink(path);
        continue;
      }
      this.segments.push({ name, table: m[2] as TableName, bytes });
      this.bytes += bytes;
      this.nextSeq = Math.max(this.nextSeq, Number(m[1]) + 1);
    }
  }

  /** Append a batch durably; resolves once it is fsync'd. Appends keep their call order. */
  append(batch: Batch): Promise<void> {
    const size = batch.data.byteLength;
    this.pendingBytes += size;
    return this.run(async () => {
      try {
        await this.appendNow(batch);
      } finally {
        this.pendingBytes -= size;
      }
    });
  }

  private async appendNow(batch: Batch): Promise<void> {
    let o = this.open[batch.table];
    if (!o) {
      const name = `${String(this.nextSeq++).padStart(16, "0")}-${batch.table}.copy`;
      const fh = await open(join(this.dir, name), "a");
      o = { seg: { name, table: batch.table, bytes: 0 }, fh };
      this.open[batch.table] = o;
      this.segments.push(o.seg);
      await syncDir(this.dir);
    }
    const buf = batch.data;
    try {
      await o.fh.write(buf);
      await o.fh.sync();
    } catch (error) {
      // Never leave a torn line for later appends to follow: cut back, and start a new file next time.
      await o.fh.truncate(o.seg.bytes).catch(() => {});
      await this.closeSegment(batch.table).catch(() => {});
      throw error;
    }
    o.seg.bytes += buf.byteLength;
    this.bytes += buf.byteLength;
    if (o.seg.bytes >= this.segmentBytes) await this.closeSegment(batch.table);
  }

  private async closeSegment(table: TableName): Promise<void> {
    const o = this.open[table];
    if (!o) return;
    delete this.open[table];
    await o.fh.close();
  }

  /** The oldest segment, closed for appends so it can be replayed whole; undefined when the spool is empty. */
  oldest(): Promise<SpoolSegment | undefined> {
    return this.run(async () => {
      const seg = this.segments[0];
      if (seg && this.open[seg.table]?.seg === seg) await this.closeSegment(seg.table);
      return seg;
    });
  }

  async read(seg: SpoolSegment): Promise<Batch> {
    const data = await readFile(join(this.dir, seg.name));
    let rows = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) rows++;
    return { table: seg.table, rows, data };
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
    const name = `${Date.now()}-${++this.rejectedCount}-${batch.table}.copy`;
    return this.run(async () => {
      await writeFile(join(this.dir, "rejected", name), batch.data);
      await writeFile(join(this.dir, "rejected", `${name}.error.txt`), `${error.name}: ${error.message}\n`);
    });
  }

  private forget(seg: SpoolSegment): void {
    const i = this.segments.indexOf(seg);
    if (i >= 0) this.segments.splice(i, 1);
    this.bytes -= seg.bytes;
  }

  /** Wait for every append so far, then close open segments. */
  close(): Promise<void> {
    return this.run(async () => {
      for (const table of TABLE_NAMES) await this.closeSegment(table);
    });
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
