// Tests against a real S3 server: moto's standalone server from .data/s3-venv (.ci/run installs it from
// archiver/s3-server/requirements.txt), on a free port, with one bucket made.
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { waitFor } from "../lib/testing.ts";

export const MOTO = join(import.meta.dir, "..", ".data", "s3-venv", "bin", "moto_server");
export const haveMoto = existsSync(MOTO);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export interface Moto {
  readonly endpoint: string;
  stop(): void;
}

/** Start moto on a free port and create `bucket` in it. */
export async function startMoto(bucket: string): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = Bun.spawn([MOTO, "-H", "127.0.0.1", "-p", String(port)], {
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    await waitFor(
      () =>
        fetch(`${endpoint}/`)
          .then((r) => r.ok)
          .catch(() => false),
      { timeoutMs: 60_000 },
    );
    const made = await fetch(`${endpoint}/${bucket}`, { method: "PUT" });
    if (!made.ok) throw new Error(`moto: creating bucket ${bucket} answered ${made.status}`);
  } catch (error) {
    proc.kill();
    throw error;
  }
  return { endpoint, stop: () => proc.kill() };
}
