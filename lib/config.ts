// One typed reader for environment configuration (STYLE.md habit 7). Each process declares its variables once
// with defineConfig(): name, type, default, meaning. read() turns an env object into a frozen, typed config
// and rejects every bad value at start-up with a message naming the variable and what was expected. Every
// declaration lands in a registry, so docs/configuration.md is generated from the same declarations the
// processes read and cannot drift (renderConfigReference in lib/config-reference.ts).

import { ExpectedError, type Var, type VarType } from "./config-vars.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** One registry row: which process reads which variable, with its default and meaning. */
export interface RegisteredVar {
  readonly process: string;
  readonly key: string;
  readonly name: string;
  readonly type: VarType;
  readonly defaultText: string;
  readonly meaning: string;
  readonly expected: string;
}

export interface ConfigIssue {
  readonly variable: string;
  /** The raw text, or undefined for a secret. */
  readonly value: string | undefined;
  readonly expected: string;
}

/** Thrown by read(): lists every bad variable at once, each with what was expected. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly process: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      `${process} configuration: ${issues
        .map(
          (i) =>
            `${i.variable}${i.value === undefined ? "" : `=${JSON.stringify(i.value)}`}: expected ${i.expected}`,
        )
        .join("; ")}`,
    );
  }
}

export type ConfigOf<S extends Record<string, Var<unknown>>> = { readonly [K in keyof S]: S[K]["default"] };

export interface ConfigDefinition<S extends Record<string, Var<unknown>>> {
  readonly process: string;
  readonly vars: S;
  /** Parse env (default process.env) into a frozen config; throws ConfigError naming every bad variable. */
  read(env?: Env): ConfigOf<S>;
  /** read(), but a bad value prints the ConfigError to stderr and exits with 78 (EX_CONFIG). */
  readOrExit(env?: Env): ConfigOf<S>;
}

const registry = new Map<string, RegisteredVar>();

/**
 * Declare a process's variables. Keys are the config object's field names; a variable name may appear once per
 * process (several processes may read the same variable, e.g. DATABASE_URL). Cross-field rules belong in
 * `check`, which returns issues (or nothing) for the parsed config.
 */
export function defineConfig<S extends Record<string, Var<unknown>>>(
  process: string,
  vars: S,
  check?: (config: ConfigOf<S>) => ConfigIssue[] | undefined,
): ConfigDefinition<S> {
  const seen = new Set<string>();
  for (const [key, v] of Object.entries(vars)) {
    if (seen.has(v.name)) throw new Error(`defineConfig(${process}): ${v.name} declared twice`);
    seen.add(v.name);
    registry.set(`${process}\u0000${v.name}`, {
      process,
      key,
      name: v.name,
      type: v.type,
      defaultText: v.defaultText,
      meaning: v.meaning,
      expected: v.expected,
    });
  }
  const read = (env: Env = globalThis.process.env): ConfigOf<S> => {
    const issues: ConfigIssue[] = [];
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(vars)) {
      const raw = env[v.name];
      if (raw === undefined || raw === "") {
        out[key] = v.default;
        continue;
      }
      try {
        out[key] = v.parse(raw);
      } catch (error) {
        if (!(error instanceof ExpectedError)) throw error;
        issues.push({ variable: v.name, value: v.secret ? undefined : raw, expected: error.message });
      }
    }
    if (issues.length === 0) issues.push(...(check?.(out as ConfigOf<S>) ?? []));
    if (issues.length > 0) throw new ConfigError(process, issues);
    return Object.freeze(out) as ConfigOf<S>;
  };
  const readOrExit = (env?: Env): ConfigOf<S> => {
    try {
      return read(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(error.message);
      return globalThis.process.exit(78);
    }
  };
  return Object.freeze({ process, vars, read, readOrExit });
}

/** Every variable declared so far (import the processes' config modules first), sorted by process and name. */
export function registeredVariables(): RegisteredVar[] {
  return [...registry.values()].sort((a, b) =>
    a.process === b.process ? a.name.localeCompare(b.name) : a.process.localeCompare(b.process),
  );
}

export {
  bool,
  bytes,
  custom,
  duration,
  ExpectedError,
  int,
  list,
  oneOf,
  port,
  string,
  url,
  type Var,
  type VarType,
} from "./config-vars.ts";
