// Socket files: private directory, stale socket replacement, refusing a live relay, clean shutdown.
import { afterEach, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectRelayProducer } from "./index.ts";
import { collect, frames, startRelayProcess, tempDir, waitFor, waitForFilters } from "./testing.ts";

const dirs: string[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

/** Run relay/main.ts expecting it to refuse to start; returns its exit code and stderr. */
async function refused(d: string): Promise<{ code: number; stderr: string }> {
  const proc = Bun.spawn(["bun", "relay/main.ts"], {
    cwd: join(import.meta.dir, ".."),
    env: {
      ...process.env,
      TAPEWIRE_RELAY_IN: join(d, "run", "in.sock"),
      TAPEWIRE_RELAY_OUT: join(d, "run", "out.sock"),
      RELAY_METRICS_PORT: "0",
    },
    stderr: "pipe",
  });
  const code = await proc.exited;
  return { code, stderr: await new Response(proc.stderr).text() };
}

test("the socket directory is created 0700, and a wider existing one is tightened", async () => {
  const fresh = dir();
  const relay = await startRelayProcess({ dir: fresh });
  cleanups.push(() => relay[Symbol.asyncDispose]());
  expect(statSync(join(fresh, "run")).mode & 0o777).toBe(0o700);
  expect(statSync(relay.inPath).isSocket()).toBe(true);

  const wide = dir();
  mkdirSync(join(wide, "run"));
  chmodSync(join(wide, "run"), 0o755);
  const second = await startRelayProcess({ dir: wide });
  cleanups.push(() => second[Symbol.asyncDispose]());
  expect(statSync(join(wide, "run")).mode & 0o777).toBe(0o700);
});

test("a stale socket left by a crash is replaced, and the new relay works", async () => {
  const d = dir();
  const crashed = await startRelayProcess({ dir: d });
  crashed.proc.kill("SIGKILL");
  await crashed.proc.exited;
  expect(existsSync(crashed.inPath)).toBe(true);
  expect(existsSync(crashed.outPath)).toBe(true);

  const relay = await startRelayProcess({ dir: d });
  cleanups.push(() => relay[Symbol.asyncDispose]());
  expect(
    relay.logs.filter((l) => l.msg === "removed stale socket file left by a previous relay").length,
  ).toBe(2);
  const c = collect(relay.outPath, { name: "after-crash" });
  cleanups.push(() => c.consumer.close());
  await waitForFilters(relay, ["after-crash"]);
  const producer = await connectRelayProducer({ path: relay.inPath });
  cleanups.push(() => producer.close());
  producer.send(frames([{ seq: 0 }, { seq: 1 }]));
  await waitFor(() => c.frames.length === 2, "frames through the new relay");
});

test("a second relay on live sockets refuses to start with a clear message", async () => {
  const d = dir();
  const relay = await startRelayProcess({ dir: d });
  cleanups.push(() => relay[Symbol.asyncDispose]());
  const { code, stderr } = await refused(d);
  expect(code).toBe(2);
  expect(stderr).toContain("another relay is already listening on");
  expect(existsSync(relay.inPath)).toBe(true); // the live relay's socket was left alone
});

test("a non-socket file at the socket path is never deleted", async () => {
  const d = dir();
  mkdirSync(join(d, "run"), { mode: 0o700 });
  writeFileSync(join(d, "run", "in.sock"), "user data");
  const { code, stderr } = await refused(d);
  expect(code).toBe(2);
  expect(stderr).toContain("exists and is not a socket");
  expect(statSync(join(d, "run", "in.sock")).isFile()).toBe(true);
});

test("SIGTERM shuts down cleanly and unlinks both sockets", async () => {
  const d = dir();
  const relay = await startRelayProcess({ dir: d });
  expect(await relay.stop()).toBe(0);
  expect(existsSync(relay.inPath)).toBe(false);
  expect(existsSync(relay.outPath)).toBe(false);
  await relay[Symbol.asyncDispose]();
});
