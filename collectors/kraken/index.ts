// Kraken WebSocket v2 collector (trade, book with CRC32 checksums, ticker BBO): see README.md.
// Docs: https://docs.kraken.com/api/docs/websocket-v2/book
import type { VenueFactory } from "../core/types.ts";
import { KrakenAdapter } from "./adapter.ts";
import { readKrakenConfig } from "./config.ts";

export { KrakenAdapter } from "./adapter.ts";
export { bookChecksum } from "./checksum.ts";
export { KRAKEN_DEFAULT_URL, type KrakenConfig, readKrakenConfig } from "./config.ts";

export const krakenVenue: VenueFactory = ({ registry, env }) =>
  new KrakenAdapter(readKrakenConfig(env, registry), registry);
