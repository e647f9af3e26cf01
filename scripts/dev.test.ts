// The dev runner: Procfile parsing, the runner with real child processes and signals, embedded Postgres as root.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { freshDatabase, type TestDatabase } from "../bridge/testing.ts";
import { uiWatchEntry } from "./dev.ts";
import { startEmbeddedPostgres } from "./embedded-pg.ts";
import { ProcfileError, parseProcfile, scriptOf } from "./procfile.ts";

const root = resolve(import.meta.dir, "..");
const tmp = mkdtempSync(join(tmpdir(), "tw-dev-"));
chmodSync(tmp, 0o755); // as root, Postgres runs as another user, who must be able to reach its data directory
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("Procfile", () => {
  test("parses names and commands, skipping blanks and comments", () => {
    expect(parseProcfile("# the stack\n\nweb: bun api/main.ts --port 1\r\nworker-2:bun w.ts\n")).toEqual([
      { name: "web", command: "bun api/main.ts --port 1", line: 3 },
      { name: "worker-2", command: "bun w.ts", line: 4 },
    ]);
  });

  test("names the line of a bad entry", () => {
    expect(() => parseProcfile("ok: bun a.ts\nthis is not an entry\n")).toThrow(
      new ProcfileError('Procfile:2: expected "name: command", got "this is not an entry"'),
    );
    expect(() => parseProcfile("a: x\na: y")).toThrow("defined twice");
    expect(() => parseProcfile("a:   ")).toThrow("has no command");
  });

  test("finds the script of a bun command, so a missing one can be skipped", () => {
    expect(scriptOf("bun collectors/main.ts kraken")).toBe("collectors/main.ts");
    expect(scriptOf("exec bun run api/main.ts")).toBe("api/main.ts");
    expect(scriptOf("redis-server --port 1")).toBeUndefined();
  });

  test("the project's Procfile runs every process of the stack", () => {
    const entries = parseProcfile(readFileSync(join(root, "Procfile"), "utf8"));
    expect(Object.fromEntries(entries.map((e) => [e.name, e.command]))).toEqual({
      sim: "bun sim/main.ts",
      "collector-kraken": "bun collectors/main.ts kraken",
      "collector-coinbase": "bun collectors/main.ts coinbase",
      "collector-binance": "bun collectors/main.ts binance",
      relay: "bun relay/main.ts",
      bridge: "bun bridge/main.ts",
      api: "bun api/main.ts",
      archiver: "bun archiver/main.ts",
      trader: "bun trader/main.ts",
    });
  });
});

describe("bun run dev", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase({ migrate: false });
  });
  afterAll(async () => {
    await db.drop();
  });

  async function runDev(procfile: string, env: Record<string, string>) {
    const file = join(tmp, `Procfile.${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, procfile);
    const proc = Bun.spawn(["bun", "scripts/dev.ts"], {
      cwd: root,
      env: {
        ...process.env,
        DEV_PROCFILE: file,
        DATABASE_URL: db.url,
        NO_COLOR: "1",
        DEV_UI: "false",
        ...env,
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    const waiters: (() => void)[] = [];
    (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout as unknown as AsyncIterable<Uint8Array>) {
        out += decoder.decode(chunk);
        for (const w of waiters.splice(0)) w();
      }
    })();
    const waitFor = (text: string, count = 1) =>
      new Promise<void>((resolveWait, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${text}" in:\n${out}`)), 20_000);
        const check = () => {
          if (out.split(text).length - 1 >= count) {
            clearTimeout(timer);
            resolveWait();
          } else waiters.push(check);
        };
        check();
      });
    return { proc, waitFor, output: () => out };
  }

  test("runs each process with prefixed output and the sim URLs, skips missing ones, stops on SIGTERM", async () => {
    const dev = await runDev(
      "echo: bun scripts/dev-child-fixture.ts\nsim: bun scripts/dev-child-fixture.ts\nmissing: bun not/there.ts\n",
      { SIM_PORT: "9911" },
    );
    await dev.waitFor("| ready", 2);
    await dev.waitFor("echo    | to stderr too\n"); // stderr is its own pipe: no order against stdout
    const out = dev.output();
    expect(out).toContain("echo    | KRAKEN_WS_URL=ws://127.0.0.1:9911/kraken/v2\n");
    expect(out).toContain("echo    | BINANCE_REST_URL=http://127.0.0.1:9911/binance\n");
    expect(out).toContain(`echo    | DATABASE_URL=${db.url}\n`);
    expect(out).toContain("echo    | to stderr too\n");
    expect(out).toContain("missing | skipped: not/there.ts does not exist yet\n");
    // It migrated the database before starting anything.
    expect((await db.sql`SELECT count(*)::int AS n FROM instruments`)[0]!.n).toBe(8);
    dev.proc.kill("SIGTERM");
    expect(await dev.proc.exited).toBe(0);
    expect(dev.output()).toContain("echo    | got SIGTERM\n");
    expect(dev.output()).toContain("sim     | got SIGTERM\n");
  }, 30_000);

  test("MARKET_SOURCE=live runs no simulator and leaves the exchange URLs alone; a stubborn process is killed", async () => {
    const dev = await runDev(
      "sim: bun scripts/dev-child-fixture.ts\nstubborn: bun scripts/dev-child-fixture.ts stubborn\n",
      {
        MARKET_SOURCE: "live",
        KRAKEN_WS_URL: "",
        DEV_STOP_GRACE_MS: "300",
        DEV_SKIP_MIGRATE: "true",
      },
    );
    await dev.waitFor("stubborn | ready");
    expect(dev.output()).not.toContain("sim ");
    expect(dev.output()).toContain("stubborn | KRAKEN_WS_URL=\n");
    dev.proc.kill("SIGINT");
    expect(await dev.proc.exited).toBe(0);
    expect(dev.output()).toContain("stubborn | ignoring SIGTERM\n");
    expect(dev.output()).toContain("stubborn | did not stop within 300 ms: SIGKILL\n");
  }, 30_000);
});

test("the dashboard's watch build runs beside the stack unless DEV_UI=false", () => {
  const entry = uiWatchEntry({});
  expect(entry?.name).toBe("ui");
  expect(entry?.command.split(" ")).toEqual(expect.arrayContaining(["vite", "build", "ui", "--watch"]));
  expect(scriptOf(entry!.command)).toBeUndefined(); // never skipped as a missing script
  expect(uiWatchEntry({ DEV_UI: "false" })).toBeNull();
});

test("embedded Postgres starts (as an unprivileged user when we are root), serves, and stops", async () => {
  const dataDir = join(tmp, "pg");
  const lines: string[] = [];
  const pg = await startEmbeddedPostgres({
    dataDir,
    port: 0,
    database: "tw_dev_test",
    onLog: (l) => lines.push(l),
  });
  try {
    const sql = postgres(pg.url, { max: 1 });
    const [row] = await sql`SELECT current_database() AS db, 1 + 1 AS two`;
    await sql.end();
    expect(row).toEqual({ db: "tw_dev_test", two: 2 });
    if (process.getuid?.() === 0) expect(statSync(dataDir).uid).not.toBe(0);
  } finally {
    await pg.stop();
  }
  expect(lines.some((l) => l.includes("database system is shut down"))).toBe(true);
}, 60_000);
