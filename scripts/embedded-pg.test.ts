// The embedded Postgres of `bun run dev` asks for a password (issue 8: `initdb -A trust` let every local account
// in as superuser): scram-sha-256, a generated password in a 0600 file, the URL carrying it; and a cluster made
// with trust by an older version is switched over on its next start.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { startEmbeddedPostgres } from "./embedded-pg.ts";

const tmp = mkdtempSync(join(tmpdir(), "tw-embedded-pg-"));
chmodSync(tmp, 0o755); // as root the server runs as another user, which must reach the cluster directory
// Two clusters are many files: removing them takes seconds on a busy disk.
afterAll(() => rm(tmp, { recursive: true, force: true }), 60_000);

async function refusesWithoutPassword(port: number): Promise<string> {
  const sql = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, {
    max: 1,
    connect_timeout: 5,
    onnotice: () => {},
  });
  try {
    await sql`SELECT 1`;
    return "connected";
  } catch (error) {
    return String((error as Error).message);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function canQuery(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ two: number }[]>`SELECT 1 + 1 AS two`;
    return row!.two;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

test("scram-sha-256 with a generated 0600 password: the URL works, no password is refused", async () => {
  const dataDir = join(tmp, "a", "pg");
  const pg = await startEmbeddedPostgres({ dataDir, port: 0, database: "tw_pw", onLog: () => {} });
  try {
    expect(pg.passwordFile).toBe(join(tmp, "a", "pg-password"));
    expect(statSync(pg.passwordFile).mode & 0o777).toBe(0o600);
    const password = readFileSync(pg.passwordFile, "utf8").trim();
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect(new URL(pg.url).password).toBe(password);
    expect(pg.displayUrl).not.toContain(password);
    expect(await canQuery(pg.url)).toBe(2);
    expect(await refusesWithoutPassword(pg.port)).toMatch(/password|SASL|authentication/i);
    const wrong = new URL(pg.url);
    wrong.password = "not-the-password";
    await expect(canQuery(wrong.toString())).rejects.toThrow(/password authentication failed/);
    expect(readFileSync(join(dataDir, "pg_hba.conf"), "utf8")).not.toMatch(/^[^#\n]*\btrust\s*$/m);
  } finally {
    await pg.stop();
  }
}, 90_000);

test("a cluster still on trust (made by an older version) is switched to passwords on start", async () => {
  const dataDir = join(tmp, "b", "pg");
  const first = await startEmbeddedPostgres({ dataDir, port: 0, onLog: () => {} });
  await first.stop();
  writeFileSync(join(dataDir, "pg_hba.conf"), "host all all 127.0.0.1/32 trust\nlocal all all trust\n");
  const lines: string[] = [];
  const pg = await startEmbeddedPostgres({ dataDir, port: 0, onLog: (l) => lines.push(l) });
  try {
    expect(lines.some((l) => l.includes("from trust to scram-sha-256"))).toBe(true);
    expect(await canQuery(pg.url)).toBe(2);
    expect(await refusesWithoutPassword(pg.port)).toMatch(/password|SASL|authentication/i);
  } finally {
    await pg.stop();
  }
}, 90_000);
