// Binance spot: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md
// The venue adapter: every stream goes in the URL (combined streams, so nothing is sent on open and the
// 5 messages/s inbound limit is never at risk), the shared feed owns the socket, and each symbol's book is
// synchronised with REST snapshots. Binance pings every 20 s with WebSocket ping frames; Bun's client answers
// them itself with the payload echoed (ping.test.ts checks that). Since no JSON heartbeat exists, a
// GET_PROPERTY every keepaliveMs gets a response that proves the connection is alive even when every
// subscribed symbol is quiet.
import { ConfigError } from "../../lib/config.ts";
import type { ExchangeName } from "../../schema/frame.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";
import type { FeedContext, VenueAdapter } from "../core/types.ts";
import { BookSync } from "./book.ts";
import { type BinanceConfig, snapshotsPerMinute } from "./config.ts";
import { DepthWriter } from "./depth.ts";
import { BinanceHistory } from "./history.ts";
import { BinanceMetrics } from "./metrics.ts";
import { MessageParser } from "./parser.ts";
import { BinanceRest } from "./rest.ts";
import { MAX_STREAMS_PER_CONNECTION, StreamTable } from "./symbols.ts";

/** Keepalive request ids start here, apart from anything an operator sends by hand. */
const KEEPALIVE_ID_BASE = 1_000_000;

export interface BinanceAdapterOptions {
  /** Replace the REST snapshot source (tests, conformance); default: BinanceRest against config.restUrl. */
  fetchSnapshot?: (venueSymbol: string) => Promise<string>;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export class BinanceAdapter implements VenueAdapter {
  readonly exchange: ExchangeName = "binance";
  readonly streams: StreamTable;
  readonly sync: BookSync;
  readonly parser: MessageParser;
  readonly pingIntervalMs: number;
  readonly maxConnectionMs: number;
  readonly idleTimeoutMs: number;
  readonly resyncsPerMinute: number;
  readonly history = new BinanceHistory(() => this.restClient());
  private rest: BinanceRest | null = null;
  private keepaliveId = KEEPALIVE_ID_BASE;
  private ctx: FeedContext | null = null;
  private readonly fetchOverride?: (url: string, init: RequestInit) => Promise<Response>;

  constructor(
    readonly config: BinanceConfig,
    registry: InstrumentRegistry,
    options: BinanceAdapterOptions = {},
  ) {
    const instruments = registry.listedOn("binance");
    this.streams = new StreamTable(instruments, config.depthStream);
    if (this.streams.entries.length > MAX_STREAMS_PER_CONNECTION)
      throw new ConfigError("collector-binance", [
        {
          variable: "TAPEWIRE_INSTRUMENTS",
          value: undefined,
          expected:
            `at most ${MAX_STREAMS_PER_CONNECTION} streams on one connection (${Math.floor(MAX_STREAMS_PER_CONNECTION / 3)} symbols); ` +
            `it lists ${instruments.length} Binance symbols (${this.streams.entries.length} streams)`,
        },
      ]);
    const fetchSnapshot = options.fetchSnapshot ?? ((symbol: string) => this.restClient().depth(symbol));
    this.sync = new BookSync(
      instruments,
      new DepthWriter(),
      fetchSnapshot,
      (ctx) => BinanceMetrics.for(ctx.metrics),
      Math.max(1000, 2 * config.depthLimit),
    );
    this.parser = new MessageParser(this.streams, this.sync, (ctx) =>
      BinanceMetrics.for(ctx.metrics).controlResponses.inc(),
    );
    this.pingIntervalMs = config.keepaliveMs;
    this.idleTimeoutMs = config.idleTimeoutMs;
    this.maxConnectionMs = config.maxConnectionMs;
    this.resyncsPerMinute = snapshotsPerMinute(config);
    this.fetchOverride = options.fetch;
  }

  url(): string {
    return `${this.config.wsUrl}/stream?streams=${this.streams.query()}&timeUnit=MICROSECOND`;
  }

  subscribeMessages(): string[] {
    return [];
  }

  onMessage(text: string, ctx: FeedContext): void {
    this.parser.handle(text, ctx);
  }

  onOpen(ctx: FeedContext): void {
    this.ctx = ctx;
    this.sync.open(ctx);
  }

  onClose(_ctx: FeedContext): void {
    this.sync.close();
  }

  ping(): string {
    this.keepaliveId++;
    return `{"method":"GET_PROPERTY","params":["combined"],"id":${this.keepaliveId}}`;
  }

  /** The REST client, made on first use (it reports through the collector's metrics and log). */
  restClient(): BinanceRest {
    const ctx = this.ctx;
    if (!ctx) throw new Error("binance REST used before the first connection");
    this.rest ??= new BinanceRest(this.config, {
      fetch: this.fetchOverride,
      log: ctx.log,
      metrics: BinanceMetrics.for(ctx.metrics),
    });
    return this.rest;
  }
}
