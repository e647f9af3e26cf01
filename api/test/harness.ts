// Test harness: a fresh Postgres database per test file (lib/testing.ts freshDatabase: migrated with
// schema/db/migrate.ts, the path production uses), a Redis key prefix per run, and the app driven through
// app.handle(new Request(...)).
// Log lines are captured so tests can check that no secret is ever logged.
import { randomBytes } from "node:crypto";
import type postgres from "postgres";
import { createLogger } from "../../lib/log.ts";
import { freshDatabase, waitFor as waitUntil } from "../../lib/testing.ts";
import { type App, createApp } from "../app.ts";
import { loadApiConfig } from "../config.ts";
import { type ApiDeps, createDeps } from "../deps.ts";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const TEST_JWT_SECRET = `test-only-secret-${"x".repeat(32)}`;
const REQUIRED_TABLES = [
  "users",
  "portfolios",
  "orders",
  "fills",
  "position_lots",
  "trades",
  "book_tops",
  "feed_events",
];

export interface TestDatabase {
  url: string;
  name: string;
  sql: postgres.Sql;
  drop(): Promise<void>;
}

/** A migrated database of its own (lib/testing.ts freshDatabase), checked to hold the API's tables. */
export async function createTestDatabase(): Promise<TestDatabase> {
  // lib/testing.ts freshDatabase is the one implementation; the API's tests also insist the migrations are whole.
  const db = await freshDatabase({ prefix: "tw_api", max: 2 });
  const present = await db.sql<
    { t: string }[]
  >`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`;
  const missing = REQUIRED_TABLES.filter((t) => !present.some((p) => p.t === t));
  if (missing.length > 0) {
    await db.drop();
    throw new Error(`drizzle/ migrations lack ${missing.join(", ")}: run bun run db:generate`);
  }
  return db;
}

// biome-ignore lint/suspicious/noExplicitAny: reply bodies are JSON the tests inspect with assertions
export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestApi {
  app: App;
  deps: ApiDeps;
  db: TestDatabase;
  prefix: string;
  logs: string[];
  /** Every response body seen, for the "no secret leaks" checks. */
  responses: string[];
  // biome-ignore lint/suspicious/noExplicitAny: see Reply
  call<T = any>(
    method: string,
    path: string,
    opts?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<Reply<T>>;
  close(): Promise<void>;
}

/** An app over a fresh database, or over `shared` (which the caller then drops). */
export async function startTestApi(
  env: Record<string, string> = {},
  shared?: TestDatabase,
): Promise<TestApi> {
  const db = shared ?? (await createTestDatabase());
  const prefix = `twtest:${randomBytes(4).toString("hex")}:`;
  const config = loadApiConfig({
    JWT_SECRET: TEST_JWT_SECRET,
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    API_REDIS_PREFIX: prefix,
    API_MATCHER_MS: "0",
    API_ARGON2_MEMORY_KIB: "1024",
    API_ARGON2_TIME_COST: "1",
    API_TRUST_PROXY: "1",
    API_UI_DIR: "/nonexistent",
    API_DB_POOL: "4",
    ...env,
  });
  const logs: string[] = [];
  const deps = await createDeps(
    config,
    createLogger({ svc: "api-test" }, (line) => logs.push(line)),
  );
  if (config.redisUrl === TEST_REDIS_URL) await waitFor(() => deps.store.ready, "redis ready");
  const app = createApp(deps);
  const responses: string[] = [];
  return {
    app,
    deps,
    db,
    prefix,
    logs,
    responses,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.body !== undefined) {
        headers["content-type"] = "application/json";
        body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      }
      const res = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
      const text = await res.text();
      responses.push(text);
      let parsed: unknown = text;
      if (res.headers.get("content-type")?.includes("json") && text) parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed as Reply["body"], text };
    },
    async close() {
      if (deps.redis?.ready) {
        const keys = await scanKeys(deps, `${prefix}*`);
        if (keys.length > 0) await deps.redis.client.del(...keys);
      }
      await deps.close();
      if (!shared) await db.drop();
    },
  };
}

export async function scanKeys(deps: ApiDeps, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    if (!deps.redis) return keys;
    const [next, batch] = await deps.redis.client.scan(cursor, "MATCH", pattern, "COUNT", 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys;
}

/** lib/testing.ts waitFor with this harness's older (check, what, timeoutMs) signature. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  await waitUntil(check, { what, timeoutMs });
}

let userSeq = 0;
/** Register and log in a fresh user; returns its tokens. */
export async function newUser(api: TestApi, label = "user") {
  const email = `${label}.${++userSeq}.${randomBytes(3).toString("hex")}@example.com`;
  const password = `pw-${randomBytes(8).toString("hex")}`;
  const reg = await api.call("POST", "/api/auth/register", { body: { email, password } });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
  const login = await api.call("POST", "/api/auth/login", { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return {
    email,
    password,
    id: reg.body.id as string,
    token: login.body.accessToken as string,
    refreshToken: login.body.refreshToken as string,
  };
}
