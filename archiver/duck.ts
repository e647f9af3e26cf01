// DuckDB for the archiver: in memory, one thread (the same rows always give the same bytes), no extension
// loading or installing (nothing is downloaded at run time; parquet is built in), UTC.
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { ArchiveDataset } from "../schema/archive.ts";

/** The instance behind each connection openExportDuck made: the bulk export opens more connections on it. */
const instances = new WeakMap<DuckDBConnection, DuckDBInstance>();

/** Another connection to the database of `duck` (UTC), or null when `duck` was not made by openExportDuck. */
export async function connectBeside(duck: DuckDBConnection): Promise<DuckDBConnection | null> {
  const instance = instances.get(duck);
  if (!instance) return null;
  const c = await instance.connect();
  await c.run("SET TimeZone = 'UTC'");
  return c;
}

export async function openExportDuck(): Promise<{ duck: DuckDBConnection; close(): void }> {
  const instance = await DuckDBInstance.create(":memory:", {
    threads: "1",
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  });
  const duck = await instance.connect();
  await duck.run("SET TimeZone = 'UTC'");
  instances.set(duck, instance);
  return {
    duck,
    close() {
      duck.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * DuckDB's SELECT over a CSV that Postgres wrote with `COPY (selectSql(d, …)) TO STDOUT (FORMAT csv, NULL '\N')`:
 * the `extra` leading columns (name, DuckDB type) as they are, then the dataset's columns typed, timestamps
 * from µs since the epoch.
 */
export function readSourceCsv(
  d: ArchiveDataset,
  csvPath: string,
  extra: readonly (readonly [string, string])[] = [],
): string {
  const columns = extra
    .map(([name, type]) => `'${name}': '${type}'`)
    .concat(d.columns.map((c) => `'${c.name}': '${c.type === "TIMESTAMPTZ" ? "BIGINT" : c.type}'`))
    .join(", ");
  const select = extra
    .map(([name]) => name)
    .concat(
      d.columns.map((c) =>
        c.type === "TIMESTAMPTZ" ? `make_timestamp(${c.name})::TIMESTAMPTZ AS ${c.name}` : c.name,
      ),
    )
    .join(", ");
  return `SELECT ${select} FROM read_csv('${csvPath.replaceAll("'", "''")}', header = false, auto_detect = false, delim = ',', nullstr = '\\N', quote = '"', escape = '"', columns = {${columns}})`;
}
