// The archive on S3-compatible object storage (ARCHIVE_DIR=s3://bucket/prefix) through Bun's S3 client.
// A verified file is uploaded, then read back (size from a HEAD, bytes hashed: sha256 must match the local
// file's) and only then reported placed, so the manifest row is written after the object is known good.
// S3 PUTs replace an object atomically: a reader sees the old file or the new one, never a part.
// DuckDB here has no httpfs (no extension is downloaded at run time), so readers get a local read-through
// cache (ARCHIVE_CACHE_DIR) with the archive's own paths: a file is fetched once, checked against the
// manifest's sha256, renamed into place, and refetched when the manifest's sha256 changes (a re-export).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { contentPath } from "../schema/archive.ts";
import { type ArchiveStore, LocalStore, type PlaceResult, sha256Of } from "./store.ts";

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
  /** S3-compatible endpoint (default: Bun's S3_ENDPOINT / AWS_ENDPOINT, else AWS). */
  endpoint?: string;
  region?: string;
  /** Credentials (default: Bun's S3_ACCESS_KEY_ID / AWS_ACCESS_KEY_ID and the matching secrets). */
  accessKeyId?: string;
  secretAccessKey?: string;
}

export class S3Store implements ArchiveStore {
  private readonly client: Bun.S3Client;
  constructor(private readonly opts: S3StoreOptions) {
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
  }
  private cachedSha(path: string): string | null {
    try {
      return readFileSync(`${this.cached(path)}.sha256`, "utf8");
    } catch {
      return null; // not cached yet
    }
  }

  async localPath(path: string, sha256?: string): Promise<string> {
    const file = this.cached(path);
    const have = this.cachedSha(path);
    if (have !== null && (sha256 === undefined || have === sha256)) return file;
    const bytes = new Uint8Array(await this.client.file(this.key(path)).arrayBuffer());
    const got = sha256Of(bytes);
    if (sha256 !== undefined && got !== sha256)
      throw new ArchiveS3Error(`${this.key(path)}: sha256 ${got}, the manifest says ${sha256}`);
    const tmp = join(this.tmpDir(), `fetch-${process.pid}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(tmp, bytes);
    this.cache(path, got, () => renameSync(tmp, file));
    return file;
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
      rmSync(`${this.cached(path)}.sha256`, { force: true });
      rmSync(this.cached(path), { force: true });
    }
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
    endpoint: o.endpoint,
    region: o.region,
    accessKeyId: env.S3_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY,
  });
}
