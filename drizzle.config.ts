// drizzle-kit reads the Drizzle tables in schema/db and writes SQL migrations to drizzle/ (`bun run db:generate`);
// schema/db/migrate.ts applies them. No database is needed to generate.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./schema/db/index.ts",
  out: "./drizzle",
});
