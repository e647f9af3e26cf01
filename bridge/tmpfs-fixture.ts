// A small tmpfs of its own for tests of a full disk (mount needs root): fill() takes every free byte so the
// next write fails with ENOSPC, free() gives the space back, unmount() when done.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export class Tmpfs {
  private constructor(readonly dir: string) {}

  /** Mount a tmpfs of `size` (mount's syntax: "32m") on `dir`; throws where mounting is not allowed. */
  static mount(dir: string, size = "32m"): Tmpfs {
    mkdirSync(dir, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" });
    return new Tmpfs(dir);
  }

  /** A Tmpfs, or null with the reason where mounting is not allowed (not root). */
  static tryMount(dir: string, size?: string): { disk: Tmpfs | null; error: string } {
    try {
      return { disk: Tmpfs.mount(dir, size), error: "" };
    } catch (error) {
      return { disk: null, error: (error as Error).message.split("\n")[0] ?? String(error) };
    }
  }

  fill(): void {
    const { bavail, bsize } = statfsSync(this.dir);
    if (bavail > 0) execFileSync("fallocate", ["-l", String(bavail * bsize), join(this.dir, "filler")]);
    // Whatever rounding left: one more write of a few pages fails now.
    try {
      writeFileSync(join(this.dir, "filler-tail"), new Uint8Array(bsize * 4));
    } catch {
      // ENOSPC: full, as wanted
    }
  }

  free(): void {
    rmSync(join(this.dir, "filler"), { force: true });
    rmSync(join(this.dir, "filler-tail"), { force: true });
  }

  unmount(): void {
    execFileSync("umount", ["-l", this.dir], { stdio: "pipe" });
  }
}
