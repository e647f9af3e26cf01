// `bun api/backtests/archive-db-fixture.ts '{"databaseUrl":…,"root":…,"now":…}'`: archiveDatabase in a process of
// its own, printing the manifest rows as JSON. Run inside the browser test's process, the export once stalled
// for ~200 s and failed verification of 4 partitions (not investigated); in its own process it takes ~2 s.
import postgres from "postgres";
import { archiveDatabase } from "./archive.testkit.ts";

const args = JSON.parse(process.argv[2] ?? "{}") as { databaseUrl: string; root: string; now: string };
const sql = postgres(args.databaseUrl, { max: 2, onnotice: () => {}, connection: { TimeZone: "UTC" } });
try {
  console.log(JSON.stringify({ manifest: await archiveDatabase(sql, args.root, new Date(args.now)) }));
} finally {
  await sql.end({ timeout: 5 });
}
