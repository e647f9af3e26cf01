// Procfile parsing (the format foreman, honcho and overmind read): one "name: command" per line,
// blank lines and "#" comments ignored.

export interface ProcfileEntry {
  readonly name: string;
  readonly command: string;
  readonly line: number;
}

export class ProcfileError extends Error {
  override readonly name = "ProcfileError";
}

const LINE = /^([A-Za-z0-9_-]+):\s*(.*)$/;

export function parseProcfile(text: string, source = "Procfile"): ProcfileEntry[] {
  const out: ProcfileEntry[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m)
      throw new ProcfileError(`${source}:${i + 1}: expected "name: command", got ${JSON.stringify(raw)}`);
    const [, name, command] = m as unknown as [string, string, string];
    if (command.trim() === "")
      throw new ProcfileError(`${source}:${i + 1}: process "${name}" has no command`);
    if (seen.has(name)) throw new ProcfileError(`${source}:${i + 1}: process "${name}" is defined twice`);
    seen.add(name);
    out.push({ name, command: command.trim(), line: i + 1 });
  }
  return out;
}

/**
 * The script a command runs, when it is `bun <file>` (or `bun run <file>`) with a relative .ts/.js path, so
 * the runner can skip a process whose code does not exist yet instead of failing the whole stack.
 */
export function scriptOf(command: string): string | undefined {
  const words = command.split(/\s+/);
  let i = words[0] === "exec" ? 1 : 0;
  if (words[i] !== "bun") return undefined;
  i++;
  if (words[i] === "run") i++;
  const file = words[i];
  return file && /\.(ts|tsx|js|mjs)$/.test(file) ? file : undefined;
}
