CREATE TABLE "archive_superseded" (
	"path" text PRIMARY KEY NOT NULL,
	"dataset" text NOT NULL,
	"superseded_at" timestamp (6) with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "archive_superseded_due" ON "archive_superseded" USING btree ("superseded_at");