CREATE TABLE "book_tops" (
	"time" timestamp (6) with time zone NOT NULL,
	"exchange" smallint NOT NULL,
	"instrument_id" integer NOT NULL,
	"bid_price" numeric,
	"bid_size" numeric,
	"ask_price" numeric,
	"ask_size" numeric,
	CONSTRAINT "book_tops_exchange_instrument_id_time_pk" PRIMARY KEY("exchange","instrument_id","time")
);
--> statement-breakpoint
CREATE TABLE "feed_events" (
	"time" timestamp (6) with time zone NOT NULL,
	"exchange" smallint NOT NULL,
	"instrument_id" integer NOT NULL,
	"event" text NOT NULL,
	"detail" bigint NOT NULL,
	"count" bigint NOT NULL,
	"seq" bigint NOT NULL,
	CONSTRAINT "feed_events_dedup" UNIQUE("exchange","instrument_id","event","seq","time")
);
--> statement-breakpoint
CREATE TABLE "instruments" (
	"id" integer PRIMARY KEY NOT NULL,
	"symbol" text NOT NULL,
	"base" text NOT NULL,
	"quote" text NOT NULL,
	"price_decimals" smallint NOT NULL,
	"size_decimals" smallint NOT NULL,
	CONSTRAINT "instruments_symbol_unique" UNIQUE("symbol")
);
--> statement-breakpoint
CREATE TABLE "trades" (
	"time" timestamp (6) with time zone NOT NULL,
	"exchange" smallint NOT NULL,
	"instrument_id" integer NOT NULL,
	"trade_id" bigint NOT NULL,
	"price" numeric NOT NULL,
	"size" numeric NOT NULL,
	"side" text NOT NULL,
	"seq" bigint NOT NULL,
	"recv_ns" bigint NOT NULL,
	CONSTRAINT "trades_dedup" UNIQUE("exchange","instrument_id","trade_id","time")
);
--> statement-breakpoint
CREATE TABLE "fills" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"order_id" uuid NOT NULL,
	"portfolio_id" uuid NOT NULL,
	"exchange" smallint NOT NULL,
	"instrument_id" integer NOT NULL,
	"side" text NOT NULL,
	"quantity" numeric NOT NULL,
	"price" numeric NOT NULL,
	"fee" numeric DEFAULT '0' NOT NULL,
	"realized_pnl" numeric DEFAULT '0' NOT NULL,
	"liquidity" text NOT NULL,
	"time" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"portfolio_id" uuid NOT NULL,
	"exchange" smallint NOT NULL,
	"instrument_id" integer NOT NULL,
	"side" text NOT NULL,
	"type" text NOT NULL,
	"quantity" numeric NOT NULL,
	"limit_price" numeric,
	"status" text NOT NULL,
	"filled_quantity" numeric DEFAULT '0' NOT NULL,
	"average_price" numeric,
	"client_order_id" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_client_id" UNIQUE("portfolio_id","client_order_id"),
	CONSTRAINT "orders_side" CHECK ("orders"."side" in ('buy', 'sell')),
	CONSTRAINT "orders_type" CHECK ("orders"."type" in ('market', 'limit')),
	CONSTRAINT "orders_status" CHECK ("orders"."status" in ('open', 'filled', 'canceled')),
	CONSTRAINT "orders_quantity" CHECK ("orders"."quantity" > 0),
	CONSTRAINT "orders_limit" CHECK (("orders"."type" = 'limit') = ("orders"."limit_price" is not null))
);
--> statement-breakpoint
CREATE TABLE "portfolios" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "portfolios_user_name" UNIQUE("user_id","name")
);
--> statement-breakpoint
CREATE TABLE "position_lots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"portfolio_id" uuid NOT NULL,
	"exchange" smallint NOT NULL,
	"instrument_id" integer NOT NULL,
	"fill_id" uuid NOT NULL,
	"quantity" numeric NOT NULL,
	"price" numeric NOT NULL,
	"opened_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_portfolio_id_portfolios_id_fk" FOREIGN KEY ("portfolio_id") REFERENCES "public"."portfolios"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_portfolio_id_portfolios_id_fk" FOREIGN KEY ("portfolio_id") REFERENCES "public"."portfolios"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "portfolios" ADD CONSTRAINT "portfolios_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "position_lots" ADD CONSTRAINT "position_lots_portfolio_id_portfolios_id_fk" FOREIGN KEY ("portfolio_id") REFERENCES "public"."portfolios"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "position_lots" ADD CONSTRAINT "position_lots_fill_id_fills_id_fk" FOREIGN KEY ("fill_id") REFERENCES "public"."fills"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "feed_events_time" ON "feed_events" USING btree ("time");--> statement-breakpoint
CREATE INDEX "trades_instrument_time" ON "trades" USING btree ("instrument_id","exchange","time");--> statement-breakpoint
CREATE INDEX "fills_portfolio_time" ON "fills" USING btree ("portfolio_id","time");--> statement-breakpoint
CREATE INDEX "fills_order" ON "fills" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "orders_portfolio_time" ON "orders" USING btree ("portfolio_id","created_at");--> statement-breakpoint
CREATE INDEX "orders_open" ON "orders" USING btree ("exchange","instrument_id") WHERE status = 'open';--> statement-breakpoint
CREATE INDEX "portfolios_user" ON "portfolios" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "position_lots_key" ON "position_lots" USING btree ("portfolio_id","exchange","instrument_id","id");