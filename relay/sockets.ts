// Socket files: a private directory (0700) and safe replacement of a stale socket left by a crash.
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";

export class RelayStartError extends Error {
  override readonly name = "RelayStartError";
}

/** Create the socket's directory with mode 0700 (or tighten it), so only the service user can connect. */
export function ensurePrivateDir(socketPath: string): string {
  const dir = dirname(socketPath);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if (!st.isDirectory()) throw new RelayStartError(`${dir} is not a directory`);
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700); // mkdir's mode is filtered by umask; a pre-existing dir may be wider
  return dir;
}

/** Does a socket file answer? Resolves true if a connection succeeds (someone is listening). */
async function answers(path: string): Promise<boolean> {
  try {
    const socket = await Bun.connect({ unix: path, socket: { data() {}, open() {}, close() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Make `path` free to bind: nothing there → fine; a dead socket → unlink it; a live one → refuse to start
 * (another relay is running); anything that is not a socket → refuse (never delete a user's file).
 * Returns true if a stale socket was removed.
 */
export async function claimSocketPath(path: string): Promise<boolean> {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  if (!st.isSocket()) throw new RelayStartError(`${path} exists and is not a socket; refusing to replace it`);
  if (await answers(path)) {
    throw new RelayStartError(
      `another relay is already listening on ${path}; stop it first (refusing to start)`,
    );
  }
  unlinkSync(path);
  return true;
}

/** Remove a socket file; a missing file is fine, any other failure is returned for the caller to log. */
export function removeSocketFile(path: string): Error | null {
  try {
    unlinkSync(path);
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? null : (error as Error);
  }
}
