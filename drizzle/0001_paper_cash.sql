CREATE TABLE "cash_entries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"portfolio_id" uuid NOT NULL,
	"currency" text NOT NULL,
	"amount" numeric NOT NULL,
	"kind" text NOT NULL,
	"fill_id" uuid,
	"note" text DEFAULT '' NOT NULL,
	"time" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cash_entries_kind" CHECK ("cash_entries"."kind" in ('initial', 'deposit', 'withdrawal', 'trade', 'fee')),
	CONSTRAINT "cash_entries_fill" CHECK (("cash_entries"."kind" in ('trade', 'fee')) = ("cash_entries"."fill_id" is not null))
);
--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "currency" text DEFAULT '' NOT NULL;--> statement-breakpoint
UPDATE "orders" o SET "currency" = i."quote" FROM "instruments" i WHERE i."id" = o."instrument_id";--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "currency" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "rested_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "portfolios" ADD COLUMN "margin" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "cash_entries" ADD CONSTRAINT "cash_entries_portfolio_id_portfolios_id_fk" FOREIGN KEY ("portfolio_id") REFERENCES "public"."portfolios"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cash_entries" ADD CONSTRAINT "cash_entries_fill_id_fills_id_fk" FOREIGN KEY ("fill_id") REFERENCES "public"."fills"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cash_entries_portfolio" ON "cash_entries" USING btree ("portfolio_id","currency","time");--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_filled" CHECK ("orders"."filled_quantity" >= 0 and "orders"."filled_quantity" <= "orders"."quantity");