// `bun run db:migrate`: apply drizzle/ migrations, upsert the instrument registry, set up TimescaleDB if present.
import { createLogger } from "../lib/log.ts";
import { migrate } from "../schema/db/migrate.ts";

const log = createLogger({ process: "db-migrate" });
const url = process.env.DATABASE_URL;
if (!url) {
  log.error("DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/tapewire)");
  process.exit(2);
}
try {
  await migrate(url, { log });
} catch (error) {
  log.error("migration failed", { error });
  process.exit(1);
}
