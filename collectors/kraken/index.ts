// Kraken WebSocket v2 collector (trade, book with CRC32 checksums, ticker BBO): see README.md.
// Docs: https://docs.kraken.com/api/docs/websocket-v2/book
export { KrakenAdapter } from "./adapter.ts";
export { bookChecksum } from "./checksum.ts";
export { KRAKEN_DEFAULT_URL, type KrakenConfig, KrakenConfigError, readKrakenConfig } from "./config.ts";
export { krakenConformance } from "./conformance.ts";
export { krakenVenue } from "./venue.ts";
