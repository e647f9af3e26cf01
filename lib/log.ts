// Structured JSON logs, one line per event on stderr, with a per-key rate limit for noisy paths
// (malformed exchange messages must be logged, but not 100k times a second).

export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const threshold = LEVELS[(process.env.LOG_LEVEL as LogLevel) ?? "info"] ?? LEVELS.info;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Log at most once per `intervalMs` per key; the next line reports how many were suppressed. */
  limited(
    level: LogLevel,
    key: string,
    msg: string,
    fields?: Record<string, unknown>,
    intervalMs?: number,
  ): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  base: Record<string, unknown>,
  sink: (line: string) => void = defaultSink,
): Logger {
  const limits = new Map<string, { until: number; suppressed: number }>();
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }, errorReplacer));
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    limited(level, key, msg, fields, intervalMs = 5000) {
      const now = Date.now();
      const entry = limits.get(key);
      if (entry && now < entry.until) {
        entry.suppressed++;
        return;
      }
      const suppressed = entry?.suppressed ?? 0;
      limits.set(key, { until: now + intervalMs, suppressed: 0 });
      write(level, msg, suppressed > 0 ? { ...fields, suppressed } : fields);
    },
    child: (fields) => createLogger({ ...base, ...fields }, sink),
  };
}

/**
 * Fields of driver errors worth keeping (postgres.js: code, severity, constraint...; Node: errno, syscall).
 * Not postgres.js's `detail`: it can quote a row's values (an email in a unique violation).
 */
const ERROR_FIELDS = [
  "code",
  "hint",
  "severity",
  "constraint_name",
  "table_name",
  "column_name",
  "errno",
  "syscall",
];
const MAX_CAUSES = 5;

/** An error as JSON: name, message, the driver's code fields and, recursively, its cause. No stack. */
export function describeError(error: Error, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  const fields = error as unknown as Record<string, unknown>;
  for (const key of ERROR_FIELDS) {
    const v = fields[key];
    if (typeof v === "string" || typeof v === "number") out[key] = v;
  }
  const cause = error.cause;
  if (cause !== undefined && depth < MAX_CAUSES)
    out.cause = cause instanceof Error ? describeError(cause, depth + 1) : String(cause);
  return out;
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return describeError(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}

function defaultSink(line: string): void {
  process.stderr.write(`${line}\n`);
}
