// The archive on S3-compatible object storage (ARCHIVE_DIR=s3://bucket/prefix) through Bun's S3 client.
// A verified file is uploaded, then read back (size from a HEAD, bytes hashed: sha256 must match the local
// file's) and only then reported placed, so the manifest row is written after the object is known good.
// S3 PUTs replace an object atomically: a reader sees the old file or the new one, never a part.
// DuckDB here has no httpfs (no extension is downloaded at run time), so readers get a local read-through
// cache (ARCHIVE_CACHE_DIR) with the archive's own paths: a file is fetched once, checked against the
// manifest's sha256, renamed into place (names are content-addressed, so a name is one version for good; a
// copy whose sidecar says another sha256 is refetched). The cache is bounded (ARCHIVE_CACHE_MAX_MB): after a
// fetch or a placement the least recently used copies go until it fits. A reader leases its files: each is
// hard-linked into a folder of the lease's own (`.leases/<pid>-<n>/`) that DuckDB reads, so no eviction and no
// other process sharing the folder (the archiver, another API) can take a file a running query is reading; a
// copy with more than one link is leased and never evicted. retainOnly drops what the manifest no longer names.
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { contentPath } from "../schema/archive.ts";
import {
  type ArchiveLease,
  type ArchiveStore,
  inLanes,
  LocalStore,
  type PlaceResult,
  sha256Of,
} from "./store.ts";

export class ArchiveS3Error extends Error {
  override readonly name = "ArchiveS3Error";
}

export interface S3Location {
  bucket: string;
  /** Key prefix without a trailing slash ("" for the bucket's root). */
  prefix: string;
}

/** `s3://bucket/some/prefix` → bucket and prefix; null for anything else (a local folder). */
export function parseS3Url(dir: string): S3Location | null {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(dir);
  if (!m) return null;
  return { bucket: m[1] as string, prefix: (m[2] as string).replace(/\/+$/, "") };
}

export interface S3StoreOptions extends S3Location {
  /** Local folder for the read-through cache and the export's scratch files. */
  cacheDir: string;
  /** Bound of the cache's copies in bytes (leased copies may exceed it while leased); none: unbounded. */
  maxBytes?: number;
  /** S3-compatible endpoint (default: Bun's S3_ENDPOINT / AWS_ENDPOINT, else AWS). */
  endpoint?: string;
  region?: string;
  /** Credentials (default: Bun's S3_ACCESS_KEY_ID / AWS_ACCESS_KEY_ID and the matching secrets). */
  accessKeyId?: string;
  secretAccessKey?: string;
}

let leases = 0;

/** A process that is gone (its leases are left over from a crash). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The last use stamped on a cached copy by this process (ms), kept increasing. */
let lastUseMs = 0;

/** A copy's last use as its mtime, for the least-recently-used order: strictly after this process's previous
 * stamp, so two uses within one millisecond are not a tie that eviction would break by name. */
function stampUse(file: string): void {
  lastUseMs = Math.max(Date.now(), lastUseMs + 1);
  const at = new Date(lastUseMs);
  utimesSync(file, at, at);
}

export class S3Store implements ArchiveStore {
  private readonly client: Bun.S3Client;
  /** Archive paths this process is fetching or linking right now: never evicted meanwhile. */
  private readonly busy = new Map<string, number>();
  constructor(private readonly opts: S3StoreOptions) {
    const leaseDir = join(opts.cacheDir, ".leases");
    try {
      for (const name of readdirSync(leaseDir))
        if (gone(Number(name.split("-")[0]))) rmSync(join(leaseDir, name), { recursive: true, force: true });
    } catch {
      // no lease folder yet
    }
    this.client = new Bun.S3Client({
      bucket: opts.bucket,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.accessKeyId ? { accessKeyId: opts.accessKeyId } : {}),
      ...(opts.secretAccessKey ? { secretAccessKey: opts.secretAccessKey } : {}),
    });
  }
  get location(): string {
    return `s3://${this.opts.bucket}/${this.opts.prefix}`;
  }
  get readRoot(): string {
    return this.opts.cacheDir;
  }
  private key(path: string): string {
    return this.opts.prefix ? `${this.opts.prefix}/${path}` : path;
  }
  tmpDir(): string {
    const dir = join(this.opts.cacheDir, ".tmp");
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  async placeMany(items: readonly { local: string; path: string }[]): Promise<PlaceResult[]> {
    const out: PlaceResult[] = [];
    for (const item of items) {
      try {
        const bytes = readFileSync(item.local);
        const sha256 = sha256Of(bytes);
        const path = contentPath(item.path, sha256);
        const object = this.client.file(this.key(path));
        await object.write(bytes, { type: "application/vnd.apache.parquet" });
        const stat = await object.stat();
        if (stat.size !== bytes.length)
          throw new ArchiveS3Error(`${this.key(path)}: stored ${stat.size} bytes, uploaded ${bytes.length}`);
        const back = sha256Of(new Uint8Array(await object.arrayBuffer()));
        if (back !== sha256)
          throw new ArchiveS3Error(`${this.key(path)}: read back sha256 ${back}, uploaded ${sha256}`);
        // The verified local file becomes the cache's copy.
        this.cache(path, sha256, () => renameSync(item.local, this.cached(path)));
        out.push({ bytes: bytes.length, sha256, path });
      } catch (error) {
        out.push({ error });
      }
    }
    this.trim();
    return out;
  }

  private cached(path: string): string {
    return join(this.opts.cacheDir, path);
  }
  private cache(path: string, sha256: string, put: () => void): void {
    const file = this.cached(path);
    mkdirSync(dirname(file), { recursive: true });
    rmSync(`${file}.sha256`, { force: true });
    put();
    writeFileSync(`${file}.sha256`, sha256);
    if (this.estimate !== null) this.estimate += statSync(file).size;
  }
  private cachedSha(path: string): string | null {
    try {
      return readFileSync(`${this.cached(path)}.sha256`, "utf8");
    } catch {
      return null; // not cached yet
    }
  }

  async localPath(path: string, sha256?: string): Promise<string> {
    this.hold(path, 1);
    try {
      return await this.fetch(path, sha256);
    } finally {
      this.hold(path, -1);
    }
  }

  private hold(path: string, by: 1 | -1): void {
    const n = (this.busy.get(path) ?? 0) + by;
    if (n > 0) this.busy.set(path, n);
    else this.busy.delete(path);
  }

  private async fetch(path: string, sha256?: string): Promise<string> {
    const file = this.cached(path);
    const have = this.cachedSha(path);
    if (have !== null && (sha256 === undefined || have === sha256)) {
      try {
        stampUse(file);
        return file;
      } catch {
        // evicted between the sidecar and the file: fetched again below
      }
    }
    const bytes = new Uint8Array(await this.client.file(this.key(path)).arrayBuffer());
    const got = sha256Of(bytes);
    if (sha256 !== undefined && got !== sha256)
      throw new ArchiveS3Error(`${this.key(path)}: sha256 ${got}, the manifest says ${sha256}`);
    const tmp = join(this.tmpDir(), `fetch-${process.pid}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(tmp, bytes);
    this.cache(path, got, () => {
      renameSync(tmp, file);
      stampUse(file);
    });
    this.trim();
    return file;
  }

  async lease(files: readonly { path: string; sha256?: string }[]): Promise<ArchiveLease> {
    const root = join(this.opts.cacheDir, ".leases", `${process.pid}-${++leases}`);
    const release = () => rmSync(root, { recursive: true, force: true });
    try {
      await inLanes(files, 4, async (f) => {
        const link = join(root, f.path);
        mkdirSync(dirname(link), { recursive: true });
        this.hold(f.path, 1);
        try {
          // Another process may evict the copy between our fetch and the link: fetch again then.
          for (let attempt = 0; ; attempt++) {
            const file = await this.fetch(f.path, f.sha256);
            try {
              linkSync(file, link);
              break;
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === "EEXIST") break; // listed twice
              if ((error as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 2) throw error;
            }
          }
        } finally {
          this.hold(f.path, -1);
        }
      });
    } catch (error) {
      release();
      throw error;
    }
    return { root, release };
  }

  /** The cache's copies (archive paths) with their size, last use and link count; scratch folders excluded. */
  private copies(): { path: string; bytes: number; usedMs: number; links: number }[] {
    const root = this.opts.cacheDir;
    let names: string[];
    try {
      names = readdirSync(root, { recursive: true }) as string[];
    } catch {
      return [];
    }
    const out: { path: string; bytes: number; usedMs: number; links: number }[] = [];
    for (const name of names) {
      if (name.startsWith(".") || !name.endsWith(".parquet")) continue; // .leases, .tmp*, sidecars
      try {
        const st = statSync(join(root, name));
        if (st.isFile())
          out.push({
            path: relative(root, join(root, name)),
            bytes: st.size,
            usedMs: st.mtimeMs,
            links: st.nlink,
          });
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }

  /** Drop one copy (its sidecar first: a reader never takes the file for a checked one while it goes). */
  private drop(path: string): void {
    rmSync(`${this.cached(path)}.sha256`, { force: true });
    rmSync(this.cached(path), { force: true });
  }

  /** A copy no lease holds (its only link) and this process is not fetching or linking. */
  private free(c: { path: string; links: number }): boolean {
    return c.links === 1 && !this.busy.has(c.path);
  }

  /** Within the bound: the least recently used free copies go first. Returns the copies dropped. */
  /**
   * Bytes in the cache by the last scan plus what this process added since (null: scan next time). A scan walks
   * the whole folder, so it runs only when the estimate passes the bound, or a minute after the last one
   * (other processes sharing the folder add copies this process does not count; each trims by its own scans).
   */
  private estimate: number | null = null;
  private scannedAt = 0;

  trim(): number {
    const max = this.opts.maxBytes;
    if (max === undefined) return 0;
    if (this.estimate !== null && this.estimate <= max && Date.now() - this.scannedAt < 60_000) return 0;
    const all = this.copies();
    this.scannedAt = Date.now();
    let total = all.reduce((n, c) => n + c.bytes, 0);
    let dropped = 0;
    if (total > max)
      for (const c of all.filter((x) => this.free(x)).sort((a, b) => a.usedMs - b.usedMs)) {
        if (total <= max) break;
        this.drop(c.path);
        total -= c.bytes;
        dropped++;
      }
    this.estimate = total;
    return dropped;
  }

  async retainOnly(keep: ReadonlySet<string>): Promise<number> {
    this.estimate = null;
    let dropped = 0;
    for (const c of this.copies())
      if (!keep.has(c.path) && this.free(c)) {
        this.drop(c.path);
        dropped++;
      }
    return dropped;
  }

  async files(under: string): Promise<string[]> {
    const prefix = this.key(under);
    const strip = this.opts.prefix ? this.opts.prefix.length + 1 : 0;
    return (await this.list(prefix)).map((o) => o.key.slice(strip)).sort();
  }

  /** Delete the objects and their cached copies (a missing object is not an error: S3 DELETE is idempotent). */
  async remove(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      await this.client.delete(this.key(path));
      this.drop(path); // a lease's link keeps its reader's copy
    }
    this.estimate = null;
  }

  /** Every object under the prefix, or under `keyPrefix` (a full key prefix) when given. */
  async list(keyPrefix?: string): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.list({
        prefix: keyPrefix ?? (this.opts.prefix ? `${this.opts.prefix}/` : undefined),
        continuationToken: token,
      });
      for (const o of page.contents ?? []) out.push({ key: o.key, size: o.size ?? 0 });
      token = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (token);
    return out;
  }
}

/** ARCHIVE_DIR → the store: `s3://bucket/prefix` is S3 (cached in cacheDir), anything else a local folder. */
export function openArchiveStore(o: {
  dir: string;
  cacheDir: string;
  /** S3: the cache's bound (ARCHIVE_CACHE_MAX_MB). */
  cacheMaxBytes?: number;
  endpoint?: string;
  region?: string;
  env?: Record<string, string | undefined>;
}): ArchiveStore {
  const s3 = parseS3Url(o.dir);
  if (!s3) {
    mkdirSync(o.dir, { recursive: true });
    return new LocalStore(o.dir);
  }
  mkdirSync(o.cacheDir, { recursive: true });
  // Credentials by the usual names, read when the store is opened (Bun's own defaults are read at its start).
  const env = o.env ?? process.env;
  return new S3Store({
    ...s3,
    cacheDir: o.cacheDir,
    maxBytes: o.cacheMaxBytes,
    endpoint: o.endpoint,
    region: o.region,
    accessKeyId: env.S3_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY,
  });
}
