// `bun run dev`: the whole stack on one machine with only Bun. Reads the Procfile (the same one overmind,
// foreman or honcho run in production), and:
// - without DATABASE_URL starts an embedded Postgres (.data/pg), migrates it and passes DATABASE_URL on;
// - unless MARKET_SOURCE=live starts the exchange simulator and points the collectors at it;
// - builds the dashboard (ui/ → ui/dist, served by the API at /) before anything starts, then runs Vite's
//   watch build beside the stack so a change is rebuilt (reload the page); DEV_UI=false skips both;
// - prefixes and colours every process's output; Ctrl-C stops everything (SIGTERM, grace, SIGKILL), then
//   the database. A second Ctrl-C kills at once.
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createLogger } from "../lib/log.ts";
import { migrate } from "../schema/db/migrate.ts";
import { ProcessRunner } from "./dev-runner.ts";
import { type EmbeddedPg, startEmbeddedPostgres } from "./embedded-pg.ts";
import { type ProcfileEntry, parseProcfile } from "./procfile.ts";

const root = resolve(import.meta.dir, "..");
const env: Record<string, string | undefined> = { ...process.env };

/** Simulator endpoints (sim/ serves all three exchanges on one port). */
export function simUrls(port: number): Record<string, string> {
  return {
    SIM_PORT: String(port),
    KRAKEN_WS_URL: `ws://127.0.0.1:${port}/kraken/v2`,
    COINBASE_WS_URL: `ws://127.0.0.1:${port}/coinbase`,
    BINANCE_WS_URL: `ws://127.0.0.1:${port}/binance`,
    BINANCE_REST_URL: `http://127.0.0.1:${port}/binance`,
    KRAKEN_REST_URL: `http://127.0.0.1:${port}/kraken`,
    COINBASE_REST_URL: `http://127.0.0.1:${port}/coinbase`,
  };
}

/** The dashboard's watch build, run beside the Procfile's processes (dev only: production serves a build). */
export function uiWatchEntry(env: Record<string, string | undefined>): ProcfileEntry | null {
  if (env.DEV_UI === "false") return null;
  return { name: "ui", command: "bun x vite build ui --watch --logLevel warn", line: 0 };
}

/** One build before the API starts, so http://127.0.0.1:3000/ is the dashboard from the first request. */
async function buildUi(runner: ProcessRunner): Promise<void> {
  const started = performance.now();
  const proc = Bun.spawn(["bun", "x", "vite", "build", "ui", "--logLevel", "warn"], {
    cwd: root,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  for (const line of `${out}${err}`.split("\n")) if (line.trim()) runner.say("ui", line);
  if (code === 0) runner.say("ui", `built ui/dist in ${Math.round(performance.now() - started)} ms`);
  else runner.say("ui", `build failed (exit ${code}): the API serves JSON at / until it builds`, 31);
}

function intEnv(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name}=${JSON.stringify(raw)}: expected a port number`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const procfilePath = env.DEV_PROCFILE ?? join(root, "Procfile");
  const entries = parseProcfile(readFileSync(procfilePath, "utf8"), procfilePath);
  const live = env.MARKET_SOURCE === "live";
  const colour = env.NO_COLOR === undefined && (Boolean(env.FORCE_COLOR) || process.stdout.isTTY === true);
  const ui = uiWatchEntry(env);
  const procs = live ? entries.filter((e) => e.name !== "sim") : entries;
  const runner = new ProcessRunner(ui ? [...procs, ui] : procs, {
    cwd: root,
    env,
    colour,
  });
  if (live) runner.say("dev", "MARKET_SOURCE=live: connecting to the real exchanges, no simulator");
  else {
    Object.assign(env, simUrls(intEnv("SIM_PORT", 9100)));
    runner.say(
      "dev",
      `simulated markets on port ${env.SIM_PORT} (MARKET_SOURCE=live for the real exchanges)`,
    );
  }

  let pg: EmbeddedPg | null = null;
  if (!env.DATABASE_URL) {
    pg = await startEmbeddedPostgres({
      dataDir: env.TAPEWIRE_PG_DIR ?? join(root, ".data", "pg"),
      port: intEnv("TAPEWIRE_PG_PORT", 54329),
      env,
      onLog: (line) => runner.say("pg", line),
    });
    env.DATABASE_URL = pg.url;
    runner.say("dev", `embedded Postgres at ${pg.displayUrl}`);
  }
  try {
    const log = createLogger({}, (line) => runner.say("migrate", line));
    if (env.DEV_SKIP_MIGRATE !== "true") await migrate(env.DATABASE_URL!, { env, log });
  } catch (error) {
    await pg?.stop();
    throw error;
  }
  mkdirSync(join(root, "run"), { recursive: true }); // the relay's default socket directory
  if (ui) await buildUi(runner);

  let stopping = 0;
  let stopped: Promise<void> | null = null;
  const stop = (why: string, code: number): Promise<void> => {
    if (stopping) {
      // A terminal's Ctrl-C reaches us twice at once (directly and via `bun run`): only a later one escalates.
      if (Date.now() - stopping >= 1000) {
        runner.say("dev", "second signal: killing everything now", 31);
        runner.kill();
      }
      return stopped!;
    }
    stopping = Date.now();
    stopped = (async () => {
      runner.say("dev", `${why}: stopping`);
      await runner.stop(Number(env.DEV_STOP_GRACE_MS ?? 10_000));
      await pg?.stop();
      runner.say("dev", "stopped");
      process.exit(code);
    })();
    return stopped;
  };
  process.on("SIGINT", () => void stop("SIGINT", 0));
  process.on("SIGTERM", () => void stop("SIGTERM", 0));

  const started = runner.start();
  runner.say("dev", `running ${started.join(", ") || "nothing"}`);
  await runner.allExited;
  if (!stopping) await stop("every process has exited", runner.failures > 0 ? 1 : 0);
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`dev: ${(error as Error).stack ?? error}`);
    process.exit(1);
  });
}
