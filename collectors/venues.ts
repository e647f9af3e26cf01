// The only way in: one typed entry per exchange.
import type { ExchangeName } from "../schema/frame.ts";
import { binanceVenue } from "./binance/index.ts";
import { coinbaseVenue } from "./coinbase/index.ts";
import type { VenueFactory } from "./core/types.ts";
import { krakenVenue } from "./kraken/index.ts";

export const VENUES: Record<ExchangeName, VenueFactory> = {
  kraken: krakenVenue,
  coinbase: coinbaseVenue,
  binance: binanceVenue,
};
