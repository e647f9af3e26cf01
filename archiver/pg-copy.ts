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
  const out = new Uint8Array(FLUSH + 65536);
  let outLen = 0;
  const flush = () => {
    let o = 0;
    while (o < outLen) o += writeSync(fd, out, o, outLen - o);
    outLen = 0;
  };
  try {
    return await copyOut(url, copy, options, {
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
        if (options.durable !== false) fsyncSync(fd);
      },
    });
  } finally {
    closeSync(fd);
  }
}

/** `copy` (a `COPY … TO STDOUT`) on a connection of our own, every CopyData message to `sink`. Returns the rows copied. */
export async function copyOut(
  url: string,
  copy: string,
  options: { snapshot?: string },
  sink: CopySink,
): Promise<number> {
  const t = target(url);
  const statements = [
    "SET TimeZone = 'UTC'",
    "SET jit = off",
    ...(options.snapshot
      ? [
          "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
          `SET TRANSACTION SNAPSHOT '${options.snapshot.replaceAll("'", "''")}'`,
        ]
      : []),
    copy,
  ];
  let pending: Uint8Array | null = null;
  let rows = 0;
  let scram: Scram | null = null;
  let failure: Error | null = null;
  return new Promise<number>((resolve, reject) => {
    let done = false;
    const finish = (error: Error | null) => {
      if (done) return;
      done = true;
      try {
        if (!error) sink.end();
      } catch (e) {
        error = e as Error;
      }
      error ? reject(error) : resolve(rows);
    };
    /**
     * The whole messages in `buf` from `o`: returns the offset of the first incomplete one, or -1 once the
     * connection is done with.
     */
    const run = (socket: Bun.Socket<undefined>, buf: Uint8Array, from: number): number => {
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      let o = from;
      try {
        while (buf.length - o >= 5) {
          const type = buf[o] as number;
          const len = view.getInt32(o + 1);
          if (buf.length - o < 1 + len) break;
          const start = o + 5;
          o += 1 + len;
          if (type === 0x64) {
            // 'd' CopyData: one row
            sink.data(buf, view, start, o);
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
                scram = new Scram(t.password);
                socket.write(message("p", scram.first()));
              } else if (code === 11) socket.write(message("p", scram!.final(dec.decode(body.subarray(4)))));
              else if (code === 12) scram!.check(dec.decode(body.subarray(4)));
              else if (code !== 0) throw new PgCopyError(`unsupported authentication method ${code}`);
              break;
            }
            case 0x5a: // 'Z' ReadyForQuery: send the next statement, or end
              if (failure) {
                finish(failure);
                socket.end(message("X", new Uint8Array(0)));
                return -1;
              }
              {
                const next = statements.shift();
                if (next === undefined) {
                  finish(null);
                  socket.end(message("X", new Uint8Array(0)));
                  return -1;
                }
                socket.write(message("Q", cstr(next)));
              }
              break;
            case 0x43: {
              // 'C' CommandComplete
              const tag = dec.decode(body.subarray(0, body.length - 1));
              if (tag.startsWith("COPY ")) rows = Number(tag.slice(5));
              break;
            }
            case 0x45: // 'E' error: remember, wait for ReadyForQuery (or the close, during start-up)
              failure = new PgCopyError(errorText(body));
              statements.length = 0;
              break;
            default: // ParameterStatus, BackendKeyData, NoticeResponse, CopyOutResponse, CopyDone…
              break;
          }
        }
      } catch (error) {
        finish(error as Error);
        socket.end();
        return -1;
      }
      return o;
    };
    const socket: Bun.SocketHandler<undefined> = {
      open(socket) {
        const params = concat(
          int32(196608),
          cstr("user"),
          cstr(t.user),
          cstr("database"),
          cstr(t.database),
          cstr("application_name"),
          cstr("tapewire-archiver-copy"),
          new Uint8Array(1),
        );
        socket.write(concat(int32(4 + params.length), params));
      },
      data(socket, chunk) {
        if (done) return;
        let from = 0;
        if (pending) {
          // Only the message split across two chunks is copied: its start (pending) and the rest of it here.
          let head: Uint8Array = pending;
          pending = null;
          if (head.length < 5) {
            const take = Math.min(5 - head.length, chunk.length);
            head = concat(head, chunk.subarray(0, take));
            from = take;
            if (head.length < 5) {
              pending = head;
              return;
            }
          }
          const need = 1 + new DataView(head.buffer, head.byteOffset, 5).getInt32(1) - head.length;
          if (chunk.length - from < need) {
            pending = concat(head, chunk.subarray(from));
            return;
          }
          const one = concat(head, chunk.subarray(from, from + need));
          from += need;
          if (run(socket, one, 0) < 0) return;
        }
        const o = run(socket, chunk, from);
        if (o >= 0 && o < chunk.length) pending = chunk.slice(o);
      },
      close() {
        finish(failure ?? new PgCopyError("the connection closed before the COPY finished"));
      },
      error(_socket, error) {
        finish(error);
      },
    };
    (t.host.startsWith("/")
      ? Bun.connect({ unix: `${t.host}/.s.PGSQL.${t.port}`, socket })
      : Bun.connect({ hostname: t.host, port: t.port, socket })
    ).catch((error) => finish(error));
  });
}
