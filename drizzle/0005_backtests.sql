CREATE TABLE "backtest_equity" (
	"run_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"ts" bigint NOT NULL,
	"equity" numeric NOT NULL,
	CONSTRAINT "backtest_equity_run_id_seq_pk" PRIMARY KEY("run_id","seq")
);
--> statement-breakpoint
CREATE TABLE "backtest_fills" (
	"run_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"trade_id" text NOT NULL,
	"client_order_id" text NOT NULL,
	"venue_order_id" text NOT NULL,
	"instrument" text NOT NULL,
	"side" text NOT NULL,
	"price" numeric NOT NULL,
	"quantity" numeric NOT NULL,
	"commission" numeric NOT NULL,
	"commission_currency" text NOT NULL,
	"liquidity" text NOT NULL,
	"ts" bigint NOT NULL,
	CONSTRAINT "backtest_fills_run_id_seq_pk" PRIMARY KEY("run_id","seq")
);
--> statement-breakpoint
CREATE TABLE "backtest_orders" (
	"run_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"client_order_id" text NOT NULL,
	"instrument" text NOT NULL,
	"side" text NOT NULL,
	"type" text NOT NULL,
	"time_in_force" text NOT NULL,
	"quantity" numeric NOT NULL,
	"price" numeric,
	"status" text NOT NULL,
	"filled_qty" numeric NOT NULL,
	"avg_px" numeric,
	"ts_init" bigint NOT NULL,
	"ts_last" bigint NOT NULL,
	CONSTRAINT "backtest_orders_run_id_seq_pk" PRIMARY KEY("run_id","seq")
);
--> statement-breakpoint
CREATE TABLE "backtest_positions" (
	"run_id" uuid NOT NULL,
	"instrument" text NOT NULL,
	"side" text NOT NULL,
	"quantity" numeric NOT NULL,
	"avg_px" numeric NOT NULL,
	"realized_pnl" numeric NOT NULL,
	"unrealized_pnl" numeric NOT NULL,
	"mark_px" numeric,
	"fills" integer NOT NULL,
	"opened_ns" bigint NOT NULL,
	CONSTRAINT "backtest_positions_run_id_instrument_pk" PRIMARY KEY("run_id","instrument")
);
--> statement-breakpoint
CREATE TABLE "backtest_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"status" text NOT NULL,
	"strategy" text NOT NULL,
	"instrument" text NOT NULL,
	"venues" text[] NOT NULL,
	"from_time" timestamp (6) with time zone NOT NULL,
	"to_time" timestamp (6) with time zone NOT NULL,
	"params" jsonb NOT NULL,
	"error" text,
	"data" jsonb,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (6) with time zone,
	"finished_at" timestamp (6) with time zone
);
--> statement-breakpoint
CREATE TABLE "backtest_stats" (
	"run_id" uuid PRIMARY KEY NOT NULL,
	"currency" text NOT NULL,
	"orders" integer NOT NULL,
	"filled_orders" integer NOT NULL,
	"fills" integer NOT NULL,
	"buy_fills" integer NOT NULL,
	"sell_fills" integer NOT NULL,
	"volume" numeric NOT NULL,
	"commissions" numeric NOT NULL,
	"realized_pnl" numeric NOT NULL,
	"unrealized_pnl" numeric NOT NULL,
	"net_pnl" numeric NOT NULL,
	"start_equity" numeric NOT NULL,
	"end_equity" numeric NOT NULL,
	"return_pct" numeric NOT NULL,
	"max_drawdown" numeric NOT NULL,
	"max_drawdown_pct" numeric NOT NULL,
	"first_ns" bigint,
	"last_ns" bigint
);
--> statement-breakpoint
ALTER TABLE "backtest_equity" ADD CONSTRAINT "backtest_equity_run_id_backtest_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."backtest_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backtest_fills" ADD CONSTRAINT "backtest_fills_run_id_backtest_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."backtest_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backtest_orders" ADD CONSTRAINT "backtest_orders_run_id_backtest_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."backtest_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backtest_positions" ADD CONSTRAINT "backtest_positions_run_id_backtest_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."backtest_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backtest_runs" ADD CONSTRAINT "backtest_runs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backtest_stats" ADD CONSTRAINT "backtest_stats_run_id_backtest_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."backtest_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "backtest_runs_user" ON "backtest_runs" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "backtest_runs_status" ON "backtest_runs" USING btree ("status");