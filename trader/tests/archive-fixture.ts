// For the Python backtest tests: `bun trader/tests/archive-fixture.ts '{"relayOut":…,"until":{"3":12},"root":…,"now":…}'`
// stores what the relay journaled through the bridge's real database writer into a fresh database, exports it
// with the real archiver into `root`, prints the manifest rows as JSON and drops the database.
import { archiveFromRelay } from "../../api/backtests/archive.testkit.ts";
import { freshDatabase } from "../../lib/testing.ts";

const args = JSON.parse(process.argv[2] ?? "{}") as {
  relayOut: string;
  until: Record<string, number>;
  root: string;
  now: string;
};
await using db = await freshDatabase({ prefix: "tw_bt_fixture" });
const manifest = await archiveFromRelay({
  sql: db.sql,
  databaseUrl: db.url,
  relayOut: args.relayOut,
  until: Object.fromEntries(Object.entries(args.until).map(([k, v]) => [Number(k), v])),
  root: args.root,
  now: new Date(args.now),
});
console.log(JSON.stringify({ manifest }));
