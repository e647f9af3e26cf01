CREATE TABLE "archive_manifest" (
	"dataset" text NOT NULL,
	"exchange" smallint NOT NULL,
	"partition_start" timestamp (6) with time zone NOT NULL,
	"partition_end" timestamp (6) with time zone NOT NULL,
	"path" text NOT NULL,
	"rows" bigint NOT NULL,
	"bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"source_rows" bigint NOT NULL,
	"source_min_us" bigint,
	"source_max_us" bigint,
	"source_fingerprint" text NOT NULL,
	"pruned_at" timestamp (6) with time zone,
	"exports" integer DEFAULT 1 NOT NULL,
	"verified_at" timestamp (6) with time zone NOT NULL,
	CONSTRAINT "archive_manifest_dataset_exchange_partition_start_pk" PRIMARY KEY("dataset","exchange","partition_start")
);
--> statement-breakpoint
CREATE INDEX "archive_manifest_verified" ON "archive_manifest" USING btree ("dataset","partition_end");