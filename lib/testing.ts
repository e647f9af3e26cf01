// Test helpers shared by every folder: waitFor (poll a condition, never sleep for it), runToExit (a child
// process's exit code, output and JSON logs) and freshDatabase (a migrated database of its own per test file on
// the test server, dropped by `await using`).
import postgres from "postgres";
import { migrate } from "../schema/db/migrate.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";
import { createLogger } from "./log.ts";

export interface WaitOptions {
  /** Give up after this long (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Named in the timeout error: "waiting for <what>". */
  readonly what?: string;
  /** Poll period (default 5 ms). */
  readonly intervalMs?: number;
}

type Truthy<T> = Exclude<T, false | 0 | "" | null | undefined>;

/**
 * Resolve with the condition's first truthy result (so `const row = await waitFor(() => rows[0])` works).
 * A condition that throws counts as "not yet" and the last error is quoted if time runs out, so polling a
 * server that is still starting needs no try/catch.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitOptions | string = {},
): Promise<Truthy<T>> {
  const {
    timeoutMs = 5000,
    what = "a condition",
    intervalMs = 5,
  } = typeof options === "string" ? { what: options } : options;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Truthy<T>;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const cause =
        lastError === undefined ? "" : ` (last error: ${(lastError as Error).message ?? lastError})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`, { cause: lastError });
    }
    await Bun.sleep(intervalMs);
  }
}

/** Run a command to its end: exit code, stdout, stderr, and the JSON log lines of both (our processes log JSON). */
export async function runToExit(
  cmd: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<{ code: number; out: string; err: string; logs: Record<string, unknown>[] }> {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  const logs = `${out}\n${err}`
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return { code, out, err, logs };
}

/** The server tests create their databases on (TEST_DATABASE_URL, default the local `test` database). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

export interface FreshDatabase extends AsyncDisposable {
  /** Connection URL of the new database. */
  readonly url: string;
  readonly name: string;
  /** A small pool on it (UTC session time zone), ended on dispose. */
  readonly sql: postgres.Sql;
  /** The same as `await using` disposal, for afterAll hooks. */
  drop(): Promise<void>;
}

export interface FreshDatabaseOptions {
  /** Apply the migrations (default true); false gives an empty database (migration tests). */
  readonly migrate?: boolean;
  /** Instruments seeded by the migration (default: the built-in registry). */
  readonly registry?: InstrumentRegistry;
  /** Name prefix, to tell whose database a leftover is (default "tw_test"). */
  readonly prefix?: string;
  /** Pool size of `sql` (default 4). */
  readonly max?: number;
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * CREATE DATABASE <prefix>_<random> on the test server, migrated with schema/db/migrate.ts (the path
 * production uses) and an empty env, so the developer's TAPEWIRE_* variables do not change what a test sees.
 */
export async function freshDatabase(options: FreshDatabaseOptions = {}): Promise<FreshDatabase> {
  const prefix = options.prefix ?? "tw_test";
  if (!/^[a-z_][a-z0-9_]{0,30}$/.test(prefix)) throw new Error(`freshDatabase: bad prefix ${prefix}`);
  const name = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = withDatabase(TEST_DATABASE_URL, name);
  let sql: postgres.Sql | undefined;
  const drop = async () => {
    await sql?.end({ timeout: 2 }).catch(() => {});
    sql = undefined;
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  try {
    if (options.migrate !== false) {
      await migrate(url, { log: createLogger({}, () => {}), env: {}, registry: options.registry });
    }
    sql = postgres(url, { max: options.max ?? 4, onnotice: () => {}, connection: { TimeZone: "UTC" } });
  } catch (error) {
    await drop();
    throw error;
  }
  const pool = sql;
  return { url, name, sql: pool, drop, [Symbol.asyncDispose]: drop };
}

async function adminQuery(statement: string): Promise<void> {
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(statement);
  } finally {
    await admin.end({ timeout: 2 });
  }
}
