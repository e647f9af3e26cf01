CREATE TABLE "trader_balances" (
	"run_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"account_id" text NOT NULL,
	"currency" text NOT NULL,
	"total" numeric NOT NULL,
	"locked" numeric NOT NULL,
	"free" numeric NOT NULL,
	"time" timestamp (6) with time zone NOT NULL,
	CONSTRAINT "trader_balances_run_id_seq_account_id_currency_pk" PRIMARY KEY("run_id","seq","account_id","currency")
);
--> statement-breakpoint
CREATE TABLE "trader_events" (
	"run_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"kind" text NOT NULL,
	"strategy_id" text,
	"instrument_id" text,
	"time" timestamp (6) with time zone NOT NULL,
	"ts_ns" bigint NOT NULL,
	"message" text NOT NULL,
	"payload" jsonb NOT NULL,
	CONSTRAINT "trader_events_run_id_seq_pk" PRIMARY KEY("run_id","seq")
);
--> statement-breakpoint
CREATE TABLE "trader_fills" (
	"run_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"trade_id" text NOT NULL,
	"client_order_id" text NOT NULL,
	"venue_order_id" text,
	"position_id" text,
	"strategy_id" text NOT NULL,
	"instrument_id" text NOT NULL,
	"side" text NOT NULL,
	"quantity" numeric NOT NULL,
	"price" numeric NOT NULL,
	"commission" numeric NOT NULL,
	"commission_currency" text NOT NULL,
	"liquidity" text NOT NULL,
	"time" timestamp (6) with time zone NOT NULL,
	"ts_ns" bigint NOT NULL,
	CONSTRAINT "trader_fills_run_id_seq_pk" PRIMARY KEY("run_id","seq")
);
--> statement-breakpoint
CREATE TABLE "trader_orders" (
	"run_id" uuid NOT NULL,
	"client_order_id" text NOT NULL,
	"venue_order_id" text,
	"strategy_id" text NOT NULL,
	"instrument_id" text NOT NULL,
	"side" text NOT NULL,
	"type" text NOT NULL,
	"quantity" numeric NOT NULL,
	"price" numeric,
	"time_in_force" text NOT NULL,
	"post_only" boolean NOT NULL,
	"status" text NOT NULL,
	"filled_qty" numeric NOT NULL,
	"avg_px" numeric,
	"reason" text,
	"created_at" timestamp (6) with time zone NOT NULL,
	"updated_at" timestamp (6) with time zone NOT NULL,
	"last_seq" bigint NOT NULL,
	CONSTRAINT "trader_orders_run_id_client_order_id_pk" PRIMARY KEY("run_id","client_order_id"),
	CONSTRAINT "trader_orders_qty" CHECK ("trader_orders"."quantity" > 0 AND "trader_orders"."filled_qty" >= 0)
);
--> statement-breakpoint
CREATE TABLE "trader_positions" (
	"run_id" uuid NOT NULL,
	"position_id" text NOT NULL,
	"strategy_id" text NOT NULL,
	"instrument_id" text NOT NULL,
	"side" text NOT NULL,
	"signed_qty" numeric NOT NULL,
	"avg_px_open" numeric NOT NULL,
	"avg_px_close" numeric,
	"realized_pnl" numeric NOT NULL,
	"unrealized_pnl" numeric NOT NULL,
	"currency" text NOT NULL,
	"opened_at" timestamp (6) with time zone NOT NULL,
	"closed_at" timestamp (6) with time zone,
	"updated_at" timestamp (6) with time zone NOT NULL,
	"last_seq" bigint NOT NULL,
	CONSTRAINT "trader_positions_run_id_position_id_pk" PRIMARY KEY("run_id","position_id")
);
--> statement-breakpoint
CREATE TABLE "trader_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"trader_id" text NOT NULL,
	"strategy_id" text NOT NULL,
	"strategy" text NOT NULL,
	"mode" text NOT NULL,
	"instruments" text[] NOT NULL,
	"config" jsonb NOT NULL,
	"started_at" timestamp (6) with time zone NOT NULL,
	"stopped_at" timestamp (6) with time zone,
	"last_event_at" timestamp (6) with time zone NOT NULL,
	"last_seq" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "trader_balances" ADD CONSTRAINT "trader_balances_run_id_trader_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."trader_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trader_events" ADD CONSTRAINT "trader_events_run_id_trader_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."trader_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trader_fills" ADD CONSTRAINT "trader_fills_run_id_trader_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."trader_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trader_orders" ADD CONSTRAINT "trader_orders_run_id_trader_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."trader_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trader_positions" ADD CONSTRAINT "trader_positions_run_id_trader_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."trader_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "trader_balances_account" ON "trader_balances" USING btree ("run_id","account_id","currency","seq");--> statement-breakpoint
CREATE INDEX "trader_events_kind" ON "trader_events" USING btree ("run_id","kind","seq");--> statement-breakpoint
CREATE INDEX "trader_fills_time" ON "trader_fills" USING btree ("run_id","time");--> statement-breakpoint
CREATE INDEX "trader_orders_updated" ON "trader_orders" USING btree ("run_id","updated_at");--> statement-breakpoint
CREATE INDEX "trader_runs_started" ON "trader_runs" USING btree ("started_at");