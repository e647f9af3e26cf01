// Kraken WebSocket v2 venue factory: https://docs.kraken.com/api/docs/websocket-v2/book
import type { VenueFactory } from "../core/types.ts";
import { KrakenAdapter } from "./adapter.ts";
import { readKrakenConfig } from "./config.ts";

export const krakenVenue: VenueFactory = ({ registry, env }) =>
  new KrakenAdapter(readKrakenConfig(env, registry), registry);
