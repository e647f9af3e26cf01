// DuckDB for the archiver: in memory, one thread (the same rows always give the same bytes), no extension
// loading or installing (nothing is downloaded at run time; parquet is built in), UTC.
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";

export async function openExportDuck(): Promise<{ duck: DuckDBConnection; close(): void }> {
  const instance = await DuckDBInstance.create(":memory:", {
    threads: "1",
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  });
  const duck = await instance.connect();
  await duck.run("SET TimeZone = 'UTC'");
  return {
    duck,
    close() {
      duck.closeSync();
      instance.closeSync();
    },
  };
}
