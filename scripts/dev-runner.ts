// Runs Procfile processes with prefixed, coloured output and stops them cleanly: SIGTERM to each, a grace
// period, then SIGKILL for whatever is still running.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type ProcfileEntry, scriptOf } from "./procfile.ts";

const COLOURS = [36, 33, 32, 35, 34, 91, 96, 93, 92, 95, 94, 31];

export interface RunnerOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** Where prefixed lines go (stdout by default). */
  write?: (text: string) => void;
  colour?: boolean;
}

interface Running {
  entry: ProcfileEntry;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  exited: Promise<number>;
}

export class ProcessRunner {
  private readonly running: Running[] = [];
  private readonly width: number;
  private readonly write: (text: string) => void;
  private stopping = false;
  /** Resolves when every started process has exited. */
  readonly allExited: Promise<void>;
  private resolveAll!: () => void;
  private left = 0;
  failures = 0;

  constructor(
    readonly entries: readonly ProcfileEntry[],
    private readonly opts: RunnerOptions,
  ) {
    this.width = Math.max(6, ...entries.map((e) => e.name.length));
    this.write = opts.write ?? ((t) => process.stdout.write(t));
    this.allExited = new Promise((r) => {
      this.resolveAll = r;
    });
  }

  /** A prefixed line from the runner itself. */
  say(name: string, text: string, colour = 90): void {
    this.write(`${this.prefix(name, colour)}${text}\n`);
  }

  private prefix(name: string, colour: number): string {
    const label = `${name.padEnd(this.width)} | `;
    return this.opts.colour ? `\x1b[${colour}m${label}\x1b[0m` : label;
  }

  /** Start every entry; one whose script file does not exist is skipped with a warning. Returns those started. */
  start(): string[] {
    const started: string[] = [];
    for (const [i, entry] of this.entries.entries()) {
      const script = scriptOf(entry.command);
      if (script && !existsSync(join(this.opts.cwd, script))) {
        this.say(entry.name, `skipped: ${script} does not exist yet`, 33);
        continue;
      }
      const colour = COLOURS[i % COLOURS.length]!;
      // exec: the shell becomes the process, so our signals reach it directly.
      const proc = Bun.spawn(["sh", "-c", `exec ${entry.command}`], {
        cwd: this.opts.cwd,
        env: this.opts.env,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const prefix = this.prefix(entry.name, colour);
      const out = this.pump(proc.stdout, prefix);
      const err = this.pump(proc.stderr, prefix);
      const exited = proc.exited.then(async (code) => {
        await Promise.all([out, err]);
        if (!this.stopping || code !== 0) {
          this.say(entry.name, `exited with ${proc.signalCode ?? `code ${code}`}`, code === 0 ? 90 : 31);
        }
        // Dying of SIGINT/SIGTERM is a normal stop (a terminal's Ctrl-C reaches every process of the group).
        const signalled = proc.signalCode === "SIGINT" || proc.signalCode === "SIGTERM";
        if (code !== 0 && !this.stopping && !signalled) this.failures++;
        if (--this.left === 0) this.resolveAll();
        return code;
      });
      this.left++;
      this.running.push({ entry, proc, exited });
      started.push(entry.name);
    }
    if (this.left === 0) this.resolveAll();
    return started;
  }

  private async pump(stream: ReadableStream<Uint8Array>, prefix: string): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    const reader = stream.getReader();
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      if (lines.length) this.write(lines.map((l) => `${prefix}${l}\n`).join(""));
    }
    if (rest) this.write(`${prefix}${rest}\n`);
  }

  /** SIGTERM everyone, wait up to graceMs, SIGKILL the rest. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const alive = this.running.filter((r) => r.proc.exitCode === null && r.proc.signalCode === null);
    for (const r of alive) r.proc.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      Promise.all(alive.map((r) => r.exited)).then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      for (const r of alive) {
        if (r.proc.exitCode === null && r.proc.signalCode === null) {
          this.say(r.entry.name, `did not stop within ${graceMs} ms: SIGKILL`, 31);
          r.proc.kill("SIGKILL");
        }
      }
      await Promise.all(alive.map((r) => r.exited));
    }
  }

  /** SIGKILL everything now (a second Ctrl-C). */
  kill(): void {
    for (const r of this.running) if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
  }
}
