// A private Postgres primary and a streaming replica of it, for tests (never the system cluster at 5432):
// initdb in a temp dir with wal_level=replica and a replication line in pg_hba, pg_ctl start on a free
// port, then pg_basebackup -R (standby.signal + primary_conninfo) into a second dir started on another
// port. Run as the postgres user when the tests run as root (initdb refuses root). `tls`: both servers
// take TLS only for the tapewire database (a self-signed certificate made here by openssl; pg_hba refuses
// plain connections to it), and the URLs ask for it (sslmode=require).
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { waitFor } from "../../lib/testing.ts";

export const PG_BIN = process.env.TAPEWIRE_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface ReplicaPair extends AsyncDisposable {
  readonly dir: string;
  /** postgres:// URLs of the `tapewire` database on each. */
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /** Stop / resume WAL replay on the replica (pg_wal_replay_pause): it stays up, frozen at a position. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Stop the replica's server (fast shutdown) and start it again. */
  stopReplica(): Promise<void>;
  startReplica(): Promise<void>;
  stop(): Promise<void>;
}

const asPostgres = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];

async function run(cmd: string[], what: string): Promise<void> {
  const proc = Bun.spawn([...asPostgres, ...cmd], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`${what} failed (${code}): ${err || out}`);
}

/** A TCP port nothing listens on right now (bound, then released). */
function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

export async function startReplicaPair(options: { tls?: boolean } = {}): Promise<ReplicaPair> {
  const url = (port: number, db: string) =>
    `postgres://postgres@127.0.0.1:${port}/${db}${options.tls && db === "tapewire" ? "?sslmode=require" : ""}`;
  const dir = mkdtempSync(join(tmpdir(), "tw-replica-"));
  if (asPostgres.length) chownSync(dir, Number(Bun.spawnSync(["id", "-u", "postgres"]).stdout), 0);
  const primaryDir = join(dir, "primary");
  const replicaDir = join(dir, "replica");
  const primaryPort = freePort();
  const replicaPort = freePort();
  const started: string[] = [];
  const ctl = (data: string, action: string, extra: string[] = []) =>
    run(
      [join(PG_BIN, "pg_ctl"), "-D", data, "-l", `${data}.log`, "-w", "-t", "60", ...extra, action],
      `pg_ctl ${action}`,
    );
  const stop = async () => {
    for (const data of started.splice(0).reverse())
      await ctl(data, "stop", ["-m", "immediate"]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(
      [join(PG_BIN, "initdb"), "-D", primaryDir, "-A", "trust", "-U", "postgres", "--no-sync"],
      "initdb",
    );
    appendFileSync(
      join(primaryDir, "postgresql.conf"),
      [
        `port = ${primaryPort}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        "wal_level = replica",
        "max_wal_senders = 4",
        "fsync = off",
        "synchronous_commit = off",
        "shared_buffers = 32MB",
        "",
      ].join("\n"),
    );
    appendFileSync(join(primaryDir, "pg_hba.conf"), "host replication postgres 127.0.0.1/32 trust\n");
    if (options.tls) {
      const [crt, key] = [join(dir, "server.crt"), join(dir, "server.key")];
      await run(
        ["openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=127.0.0.1"].concat([
          "-keyout",
          key,
          "-out",
          crt,
        ]),
        "openssl req",
      );
      appendFileSync(
        join(primaryDir, "postgresql.conf"),
        `ssl = on\nssl_cert_file = '${crt}'\nssl_key_file = '${key}'\n`,
      );
      // First match wins: a plain connection to tapewire is refused, TLS ones fall through to trust.
      const hba = join(primaryDir, "pg_hba.conf");
      writeFileSync(hba, `hostnossl tapewire all 0.0.0.0/0 reject\n${readFileSync(hba, "utf8")}`);
    }
    await ctl(primaryDir, "start");
    started.push(primaryDir);
    await run(
      [
        join(PG_BIN, "pg_basebackup"),
        "-h",
        "127.0.0.1",
        "-p",
        String(primaryPort),
        "-U",
        "postgres",
        "-D",
        replicaDir,
        "-R",
        "-X",
        "stream",
      ],
      "pg_basebackup",
    );
    appendFileSync(
      join(replicaDir, "postgresql.conf"),
      [`port = ${replicaPort}`, "hot_standby = on", "hot_standby_feedback = on", ""].join("\n"),
    );
    await ctl(replicaDir, "start");
    started.push(replicaDir);
    const admin = postgres(url(primaryPort, "postgres"), { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe("CREATE DATABASE tapewire");
    } finally {
      await admin.end({ timeout: 2 });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const replicaAdmin = () => postgres(url(replicaPort, "postgres"), { max: 1, onnotice: () => {} });
  const onReplica = async (statement: string) => {
    const sql = replicaAdmin();
    try {
      await sql.unsafe(statement);
    } finally {
      await sql.end({ timeout: 2 });
    }
  };
  // The new database is there once the replica has replayed its creation.
  await waitFor(
    async () => {
      const sql = postgres(url(replicaPort, "tapewire"), { max: 1, onnotice: () => {} });
      try {
        return (await sql`SELECT 1 AS one`).length === 1;
      } finally {
        await sql.end({ timeout: 2 });
      }
    },
    { timeoutMs: 30_000, intervalMs: 100, what: "the replica to have the tapewire database" },
  );
  return {
    dir,
    primaryUrl: url(primaryPort, "tapewire"),
    replicaUrl: url(replicaPort, "tapewire"),
    pauseReplay: () => onReplica("SELECT pg_wal_replay_pause()"),
    resumeReplay: () => onReplica("SELECT pg_wal_replay_resume()"),
    async stopReplica() {
      await ctl(replicaDir, "stop", ["-m", "fast"]);
      started.splice(started.indexOf(replicaDir), 1);
    },
    async startReplica() {
      await ctl(replicaDir, "start");
      started.push(replicaDir);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
