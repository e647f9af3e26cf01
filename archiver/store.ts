// Where archive files live. A verified file is written locally first (DuckDB writes and reads local files);
// `placeMany` then makes it durable under its archive path and says its size and sha256, and only after that
// does the caller write the manifest row. `localPath` gives a readable local copy of a manifest path.
// LocalStore: ARCHIVE_DIR on this host (fsync, rename, fsync the folder). S3Store (s3-store.ts): an
// S3-compatible bucket, with a bounded local read-through cache for DuckDB that readers lease files from.
import { createHash } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, rmdirSync, rmSync, statSync } from "node:fs";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { contentPath } from "../schema/archive.ts";

/** A placed file: its size, its sha256, and the archive path it got (contentPath: the sha256 in the name). */
export type PlaceResult = { bytes: number; sha256: string; path: string } | { error: unknown };

export interface ArchiveStore {
  /** A local scratch folder on the same file system as local copies (for atomic renames). */
  tmpDir(): string;
  /**
   * Make each local file durable in the archive; the local file is consumed. `path` is the partition's path
   * (partitionPath, dayPath): the file lands at contentPath(path, its sha256), which the result says.
   */
  placeMany(items: readonly { local: string; path: string }[]): Promise<PlaceResult[]>;
  /** A local file holding the archive file at `path` (with this sha256 when given: a stale copy is refreshed). */
  localPath(path: string, sha256?: string): Promise<string>;
  /**
   * Local copies of these archive files for one reader, under `lease.root` by their archive paths, that no
   * eviction removes until `release()` (S3: hard links into a folder of the lease's own, so another process
   * sharing the cache cannot take them away either). LocalStore: the archive itself.
   */
  lease(files: readonly { path: string; sha256?: string }[]): Promise<ArchiveLease>;
  /** Drop local copies of files not in `keep` (archive paths) that no lease holds: S3's cache; 0 elsewhere. */
  retainOnly(keep: ReadonlySet<string>): Promise<number>;
  /** The archive files (relative paths) under the folder `under` (relative, e.g. `trades/exchange=kraken/`). */
  files(under: string): Promise<string[]>;
  /** Delete archive files (relative paths; a missing one is not an error): compaction's replaced partitions. */
  remove(paths: readonly string[]): Promise<void>;
  /** Where the archive is, for logs and docs. */
  readonly location: string;
  /** The local folder that holds (or caches) files under their archive paths: what DuckDB reads. */
  readonly readRoot: string;
}

/** What a reader reads its files under until it is done with them (ArchiveStore.lease). */
export interface ArchiveLease {
  readonly root: string;
  release(): void;
}

/** Every listed archive file readable under the lease's root until release() (S3: fetched into the cache). */
export function ensureLocal(
  store: ArchiveStore,
  files: readonly { path: string; sha256?: string }[],
): Promise<ArchiveLease> {
  return store.lease(files);
}

/** Run `fn` over `items`, at most `parallel` at a time. */
export async function inLanes<T>(items: readonly T[], parallel: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, lane));
}

export const sha256Of = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** fsync many files at once (the thread pool overlaps them; one journal commit serves several). */
export async function fsyncAll(paths: readonly string[], parallel = 8): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < paths.length) {
      const f = await open(paths[next++] as string, "r");
      try {
        await f.sync();
      } finally {
        await f.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, paths.length) }, lane));
}

export function fsyncDir(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class LocalStore implements ArchiveStore {
  constructor(readonly root: string) {}
  get location(): string {
    return this.root;
  }
  get readRoot(): string {
    return this.root;
  }
  tmpDir(): string {
    const dir = join(this.root, ".tmp");
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  async placeMany(items: readonly { local: string; path: string }[]): Promise<PlaceResult[]> {
    try {
      await fsyncAll(items.map((i) => i.local));
    } catch (error) {
      return items.map(() => ({ error }));
    }
    const dirs = new Set<string>();
    // Asynchronous file calls, eight at a time: the bulk export places a batch while the JavaScript thread also
    // decodes the next batches' COPYs and hands DuckDB its next statements.
    const results: PlaceResult[] = new Array(items.length);
    await inLanes(
      items.map((_, k) => k),
      8,
      async (k) => {
        const item = items[k] as (typeof items)[number];
        try {
          const bytes = await readFile(item.local);
          const sha256 = sha256Of(bytes);
          const path = contentPath(item.path, sha256);
          const final = join(this.root, path);
          await mkdir(dirname(final), { recursive: true });
          await rename(item.local, final);
          dirs.add(dirname(final));
          results[k] = { bytes: bytes.length, sha256, path };
        } catch (error) {
          results[k] = { error };
        }
      },
    );
    // The renames are durable once their folders are: an error here fails them all (none is recorded). The
    // folders are synced like the files, on the thread pool and overlapping (a bulk batch renames into hundreds).
    try {
      await fsyncAll([...dirs]);
    } catch (error) {
      return items.map(() => ({ error }));
    }
    return results;
  }
  async localPath(path: string): Promise<string> {
    const p = join(this.root, path);
    statSync(p);
    return p;
  }
  async lease(files: readonly { path: string }[]): Promise<ArchiveLease> {
    for (const f of files) statSync(join(this.root, f.path));
    return { root: this.root, release() {} };
  }
  async retainOnly(): Promise<number> {
    return 0; // the archive itself: the archiver deletes what is superseded
  }
  async files(under: string): Promise<string[]> {
    return listFiles(this.root, under);
  }
  async remove(paths: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const path of paths) {
      const file = join(this.root, path);
      rmSync(file, { force: true });
      dirs.add(dirname(file));
    }
    // An emptied partition folder (hour=13/) goes too; the deletions are durable once the parents are synced.
    const parents = new Set<string>();
    for (const dir of dirs) {
      try {
        rmdirSync(dir);
        parents.add(dirname(dir));
      } catch {
        parents.add(dir); // not empty (or already gone)
      }
    }
    for (const dir of parents) {
      try {
        fsyncDir(dir);
      } catch {
        // the folder itself is gone: nothing to make durable
      }
    }
  }
}

/** Files (not folders) under root/under, as paths relative to root, sorted; none when the folder is missing. */
export function listFiles(root: string, under: string): string[] {
  const base = join(root, under);
  let entries: string[];
  try {
    entries = readdirSync(base, { recursive: true }) as string[];
  } catch {
    return [];
  }
  return entries
    .map((e) => join(base, e))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    })
    .map((f) => relative(root, f))
    .sort();
}
