CREATE TABLE "book_changes" (
	"time" timestamp (6) with time zone NOT NULL,
	"exchange" smallint NOT NULL,
	"instrument_id" integer NOT NULL,
	"flags" smallint NOT NULL,
	"price" numeric NOT NULL,
	"size" numeric NOT NULL,
	"update_id" bigint NOT NULL,
	"seq" bigint NOT NULL,
	"recv_ns" bigint NOT NULL,
	CONSTRAINT "book_changes_dedup" UNIQUE("exchange","instrument_id","recv_ns","seq")
);
--> statement-breakpoint
CREATE TABLE "relay_positions" (
	"consumer" text NOT NULL,
	"exchange" smallint NOT NULL,
	"seq" bigint NOT NULL,
	"recv_ns" bigint NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "relay_positions_consumer_exchange_pk" PRIMARY KEY("consumer","exchange")
);
--> statement-breakpoint
CREATE INDEX "book_changes_snapshots" ON "book_changes" USING btree ("exchange","instrument_id","recv_ns") WHERE (flags & 64) <> 0;