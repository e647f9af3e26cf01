// Binance spot: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md
// Conformance cases: recorded and documented Binance messages (fixtures/, sources in fixtures/README.md)
// with the frames a person worked out from them by hand. Depth needs REST snapshots, which never travel on
// the WebSocket; a case carries them as lines {"rest":"GET /api/v3/depth?symbol=..","body":{..}} that the
// conformance adapter hands to the same snapshot code the live REST path uses, in message order.
import type { VenueConformance } from "../core/conformance.testkit.ts";
import type { FeedContext, VenueFactory } from "../core/types.ts";
import { BinanceAdapter } from "./adapter.ts";
import { SnapshotError } from "./book.ts";
import { readBinanceConfig } from "./config.ts";
import { depthCases } from "./conformance-depth.testkit.ts";
import { messageCases } from "./conformance-messages.testkit.ts";

/** The adapter with REST snapshot lines accepted in the message stream (conformance and replay tests). */
export class RestLineAdapter extends BinanceAdapter {
  readonly snapshotErrors: string[] = [];

  override onMessage(text: string, ctx: FeedContext): void {
    if (!text.startsWith('{"rest":')) {
      super.onMessage(text, ctx);
      return;
    }
    const line = JSON.parse(text) as { rest: string; body: unknown };
    const symbol = new URL(line.rest.split(" ")[1]!, "http://rest").searchParams.get("symbol");
    const sym = this.sync.symbols.find((s) => s.venueSymbol === symbol);
    if (!sym) throw new Error(`conformance REST line for an unknown symbol: ${symbol}`);
    try {
      this.sync.applySnapshot(ctx, sym, JSON.stringify(line.body));
    } catch (error) {
      if (!(error instanceof SnapshotError)) throw error;
      this.snapshotErrors.push(error.message); // live, the resync scheduler fetches again
    }
  }
}

const restLineFactory: VenueFactory = ({ registry, env }) =>
  new RestLineAdapter(readBinanceConfig(env), registry, {
    fetchSnapshot: () => Promise.reject(new Error("no network in conformance")),
  });

export const binanceConformance: VenueConformance = {
  exchange: "binance",
  factory: restLineFactory,
  cases: [...messageCases(), ...depthCases()],
};
