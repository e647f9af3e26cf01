// COPY … TO STDOUT into a file over a connection of our own, speaking the Postgres wire protocol directly
// (https://www.postgresql.org/docs/15/protocol-flow.html#PROTOCOL-COPY). postgres.js turns every CopyData
// message (one per row) into a Buffer and a stream event, which is about 3× slower than psql here; this reader
// copies each row's bytes into a 4 MiB buffer and writes that with one system call. The connection joins an
// exported snapshot (`pg_export_snapshot()` of the caller's repeatable-read transaction), so the rows it copies
// are exactly the ones the caller's other statements see. Auth: trust, password, md5 and SCRAM-SHA-256;
// no TLS (a URL asking for it is refused with a clear error; the caller then uses postgres.js).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";

export class PgCopyError extends Error {
  override readonly name = "PgCopyError";
}

interface Target {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Whether this reader can serve a DATABASE_URL (no TLS asked for). */
export function rawCopySupported(url: string): boolean {
  const mode = new URL(url).searchParams.get("sslmode");
  return mode === null || mode === "disable" || mode === "prefer" || mode === "allow";
}

function target(url: string): Target {
  const u = new URL(url);
  if (!rawCopySupported(url))
    throw new PgCopyError(`DATABASE_URL asks for TLS (sslmode=${u.searchParams.get("sslmode")})`);
  const user = decodeURIComponent(u.username) || process.env.PGUSER || "postgres";
  return {
    host: u.searchParams.get("host") ?? (decodeURIComponent(u.hostname) || "127.0.0.1"),
    port: Number(u.port || 5432),
    user,
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)) || user,
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function message(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, 4 + body.length);
  out.set(body, 5);
  return out;
}
const cstr = (s: string) => enc.encode(`${s}\0`);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const int32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
};

/** The fields of an ErrorResponse as one line (severity, code, message). */
function errorText(body: Uint8Array): string {
  const fields = new Map<string, string>();
  let o = 0;
  while (o < body.length && body[o] !== 0) {
    const end = body.indexOf(0, o + 1);
    fields.set(String.fromCharCode(body[o] as number), dec.decode(body.subarray(o + 1, end)));
    o = end + 1;
  }
  return `${fields.get("S") ?? "ERROR"} ${fields.get("C") ?? ""}: ${fields.get("M") ?? "unknown error"}`;
}

class Scram {
  private readonly nonce = randomBytes(18).toString("base64");
  private readonly firstBare = `n=*,r=${this.nonce}`;
  private serverSignature = "";
  constructor(private readonly password: string) {}
  first(): Uint8Array {
    const data = enc.encode(`n,,${this.firstBare}`);
    return concat(cstr("SCRAM-SHA-256"), int32(data.length), data);
  }
  final(serverFirst: string): Uint8Array {
    const attrs = new Map(serverFirst.split(",").map((kv) => [kv[0], kv.slice(2)] as const));
    const nonce = attrs.get("r") ?? "";
    if (!nonce.startsWith(this.nonce))
      throw new PgCopyError("SCRAM: the server's nonce does not extend ours");
    const salted = pbkdf2Sync(
      this.password,
      Buffer.from(attrs.get("s") ?? "", "base64"),
      Number(attrs.get("i")),
      32,
      "sha256",
    );
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const auth = `${this.firstBare},${serverFirst},${withoutProof}`;
    const signature = createHmac("sha256", storedKey).update(auth).digest();
    const proof = clientKey.map((b, i) => b ^ (signature[i] as number));
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    this.serverSignature = createHmac("sha256", serverKey).update(auth).digest("base64");
    return enc.encode(`${withoutProof},p=${Buffer.from(proof).toString("base64")}`);
  }
  check(serverFinal: string): void {
    if (serverFinal !== `v=${this.serverSignature}`)
      throw new PgCopyError("SCRAM: the server's signature is wrong");
  }
}

const FLUSH = 4 << 20;

/**
 * Where a COPY's data goes: each CopyData message's bytes are `buf[start, end)`, `view` a DataView over all of
 * `buf` (both valid only during the call).
 */
export interface CopySink {
  data(buf: Uint8Array, view: DataView, start: number, end: number): void;
  /** After the last row, before the promise resolves (a throw fails the COPY). */
  end(): void;
}

/** A file's writer as a CopySink: rows gathered in a 4 MiB buffer, one write a flush; fsync at the end unless not durable. */
function fileSink(fd: number, durable: boolean): CopySink {
  const out = new Uint8Array(FLUSH + 65536);
  let outLen = 0;
  const flush = () => {
    let o = 0;
    while (o < outLen) o += writeSync(fd, out, o, outLen - o);
    outLen = 0;
  };
  return {
    data(buf, _view, start, end) {
      const n = end - start;
      if (outLen + n > out.length) flush();
      if (n > out.length) writeSync(fd, buf, start, n);
      else {
        out.set(buf.subarray(start, end), outLen);
        outLen += n;
      }
    },
    end() {
      flush();
      if (durable) fsyncSync(fd);
    },
  };
}

/**
 * Run `setup` statements, then `copy` (a `COPY … TO STDOUT`), writing its data to `path` (fsync'd unless
 * `durable: false`, copy-out.ts). `snapshot` (from pg_export_snapshot()) makes the COPY see exactly that snapshot.
 * Returns the rows copied.
 */
export async function copyOutToFile(
  url: string,
  copy: string,
  path: string,
  options: { snapshot?: string; durable?: boolean } = {},
): Promise<number> {
  const fd = openSync(path, "w");
  try {
    return await copyOut(url, copy, options, fileSink(fd, options.durable !== false));
  } finally {
    closeSync(fd);
  }
}

const SESSION = ["SET TimeZone = 'UTC'", "SET jit = off"];
const inSnapshot = (snapshot: string) => [
  "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
  `SET TRANSACTION SNAPSHOT '${snapshot.replaceAll("'", "''")}'`,
];

/** `copy` (a `COPY … TO STDOUT`) on a connection of our own, every CopyData message to `sink`. Returns the rows copied. */
export async function copyOut(
  url: string,
  copy: string,
  options: { snapshot?: string },
  sink: CopySink,
): Promise<number> {
  const connection = await PgCopyConnection.open(url, "tapewire-archiver-copy");
  try {
    return await connection.run(
      [...SESSION, ...(options.snapshot ? inSnapshot(options.snapshot) : []), copy],
      sink,
    );
  } finally {
    connection.close();
  }
}

/** Statements sent one after the other (each after the previous one's ReadyForQuery), CopyData to `sink`. */
interface Job {
  statements: string[];
  sink: CopySink | null;
  rows: number;
  failure: Error | null;
  resolve(rows: number): void;
  reject(error: Error): void;
}

/**
 * A connection of our own (start-up and authentication, then statement lists one at a time). One that saw an
 * error, or closed, is `broken`: a failed statement may leave it in an aborted transaction, so it is not reused.
 */
export class PgCopyConnection {
  private job: Job | null = null;
  private socket: Bun.Socket<undefined> | null = null;
  private pending: Uint8Array | null = null;
  private scram: Scram | null = null;
  broken = false;

  private constructor(private readonly t: Target) {}

  /** Connected and authenticated (the first ReadyForQuery), with `application_name`. */
  static open(url: string, applicationName: string): Promise<PgCopyConnection> {
    const c = new PgCopyConnection(target(url));
    return new Promise<PgCopyConnection>((resolve, reject) => {
      c.job = { statements: [], sink: null, rows: 0, failure: null, resolve: () => resolve(c), reject };
      const handler: Bun.SocketHandler<undefined> = {
        open(socket) {
          c.socket = socket;
          const params = concat(
            int32(196608),
            cstr("user"),
            cstr(c.t.user),
            cstr("database"),
            cstr(c.t.database),
            cstr("application_name"),
            cstr(applicationName),
            new Uint8Array(1),
          );
          socket.write(concat(int32(4 + params.length), params));
        },
        data: (socket, chunk) => c.received(socket, chunk),
        close: () => c.fail(new PgCopyError("the connection closed before the COPY finished")),
        error: (_socket, error) => c.fail(error),
      };
      (c.t.host.startsWith("/")
        ? Bun.connect({ unix: `${c.t.host}/.s.PGSQL.${c.t.port}`, socket: handler })
        : Bun.connect({ hostname: c.t.host, port: c.t.port, socket: handler })
      ).catch((error) => c.fail(error));
    });
  }

  /** `statements` in order (the last one's end resolves; the first error rejects); CopyData to `sink`. */
  run(statements: readonly string[], sink: CopySink | null): Promise<number> {
    const socket = this.socket;
    const [first, ...rest] = statements;
    if (this.broken || this.job || !socket || first === undefined)
      return Promise.reject(new PgCopyError("the COPY connection is not ready"));
    return new Promise<number>((resolve, reject) => {
      this.job = { statements: rest, sink, rows: 0, failure: null, resolve, reject };
      socket.write(message("Q", cstr(first)));
    });
  }

  close(): void {
    this.broken = true;
    const socket = this.socket;
    this.socket = null;
    socket?.end(message("X", new Uint8Array(0)));
  }

  /** The job (if any) fails with `error`; the connection is done with. */
  private fail(error: Error): void {
    const job = this.job;
    this.job = null;
    this.broken = true;
    job?.reject(job.failure ?? error);
  }

  private received(socket: Bun.Socket<undefined>, chunk: Uint8Array): void {
    if (this.broken) return;
    let from = 0;
    if (this.pending) {
      // Only the message split across two chunks is copied: its start (pending) and the rest of it here.
      let head: Uint8Array = this.pending;
      this.pending = null;
      if (head.length < 5) {
        const take = Math.min(5 - head.length, chunk.length);
        head = concat(head, chunk.subarray(0, take));
        from = take;
        if (head.length < 5) {
          this.pending = head;
          return;
        }
      }
      const need = 1 + new DataView(head.buffer, head.byteOffset, 5).getInt32(1) - head.length;
      if (chunk.length - from < need) {
        this.pending = concat(head, chunk.subarray(from));
        return;
      }
      const one = concat(head, chunk.subarray(from, from + need));
      from += need;
      if (this.messages(socket, one, 0) < 0) return;
    }
    const o = this.messages(socket, chunk, from);
    if (o >= 0 && o < chunk.length) this.pending = chunk.slice(o);
  }

  /**
   * The whole messages in `buf` from `from`: returns the offset of the first incomplete one, or -1 once the
   * connection is done with.
   */
  private messages(socket: Bun.Socket<undefined>, buf: Uint8Array, from: number): number {
    const t = this.t;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let o = from;
    try {
      while (buf.length - o >= 5) {
        const type = buf[o] as number;
        const len = view.getInt32(o + 1);
        if (buf.length - o < 1 + len) break;
        const start = o + 5;
        o += 1 + len;
        const job = this.job;
        if (type === 0x64) {
          // 'd' CopyData: one row
          job?.sink?.data(buf, view, start, o);
          continue;
        }
        const body = buf.subarray(start, o);
        switch (type) {
          case 0x52: {
            // 'R' authentication
            const code = new DataView(body.buffer, body.byteOffset).getInt32(0);
            if (code === 3) socket.write(message("p", cstr(t.password)));
            else if (code === 5) {
              const inner = createHash("md5")
                .update(t.password + t.user)
                .digest("hex");
              const outer = createHash("md5").update(inner).update(body.subarray(4, 8)).digest("hex");
              socket.write(message("p", cstr(`md5${outer}`)));
            } else if (code === 10) {
              this.scram = new Scram(t.password);
              socket.write(message("p", this.scram.first()));
            } else if (code === 11)
              socket.write(message("p", this.scram!.final(dec.decode(body.subarray(4)))));
            else if (code === 12) this.scram!.check(dec.decode(body.subarray(4)));
            else if (code !== 0) throw new PgCopyError(`unsupported authentication method ${code}`);
            break;
          }
          case 0x5a: {
            // 'Z' ReadyForQuery: the job's next statement, or its end
            if (!job) break;
            if (job.failure) {
              this.fail(job.failure);
              this.close();
              return -1;
            }
            const next = job.statements.shift();
            if (next !== undefined) {
              socket.write(message("Q", cstr(next)));
              break;
            }
            // Done: the sink's end (a throw fails the job), then the job's promise.
            try {
              job.sink?.end();
            } catch (error) {
              this.fail(error as Error);
              this.close();
              return -1;
            }
            this.job = null;
            job.resolve(job.rows);
            break;
          }
          case 0x43: {
            // 'C' CommandComplete
            const tag = dec.decode(body.subarray(0, body.length - 1));
            if (tag.startsWith("COPY ") && job) job.rows = Number(tag.slice(5));
            break;
          }
          case 0x45: // 'E' error: remember, wait for ReadyForQuery (or the close, during start-up)
            if (job) {
              job.failure = new PgCopyError(errorText(body));
              job.statements.length = 0;
            }
            break;
          default: // ParameterStatus, BackendKeyData, NoticeResponse, CopyOutResponse, CopyDone…
            break;
        }
      }
    } catch (error) {
      this.fail(error as Error);
      this.close();
      return -1;
    }
    return o;
  }
}

/**
 * Our own connections to one server for COPYs in exported snapshots (the API's live rows), kept between them:
 * opening one (Postgres forks a backend) was ~4.5 of the ~5.5 ms a COPY of few rows took. Each COPY runs in a
 * transaction of its own on a connection no other COPY uses meanwhile; up to `keep` are kept idle; one that saw
 * an error or closed is not. A kept one the server has closed since (idle timeout, restart) is found out by the
 * COPY: that COPY is run once more on a new connection, if it had written nothing.
 */
export class PgCopyPool {
  private readonly idle: PgCopyConnection[] = [];

  constructor(
    readonly url: string,
    private readonly keep = 2,
    private readonly applicationName = "tapewire-api-copy",
  ) {}

  async copyToFile(copy: string, path: string, snapshot: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      // The retry takes a new connection.
      let kept = attempt === 0 ? this.idle.pop() : undefined;
      while (kept?.broken) kept = this.idle.pop();
      const connection = kept ?? (await PgCopyConnection.open(this.url, this.applicationName));
      const statements = [...(kept ? [] : SESSION), ...inSnapshot(snapshot), copy, "COMMIT"];
      const fd = openSync(path, "w");
      let written = 0;
      const sink = fileSink(fd, false);
      try {
        const rows = await connection.run(statements, {
          data(buf, view, start, end) {
            written += end - start;
            sink.data(buf, view, start, end);
          },
          end: () => sink.end(),
        });
        if (!this.closed && this.idle.length < this.keep && !connection.broken) this.idle.push(connection);
        else connection.close();
        return rows;
      } catch (error) {
        connection.close();
        if (kept && attempt === 0 && written === 0) continue;
        throw error;
      } finally {
        closeSync(fd);
      }
    }
  }

  private closed = false;

  /** The idle connections closed (a COPY running keeps its own until it ends, then closes it). */
  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.close();
  }
}
