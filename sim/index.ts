// Local exchange simulator: Kraken v2, Coinbase Advanced Trade and Binance spot on one port, over a
// seeded random-walk market, with fault injection. See README.md.
export { FaultError } from "./faults.ts";
export { startSimulator } from "./server.ts";
export type {
  BookTop,
  Fault,
  FaultController,
  FaultKind,
  SimOptions,
  SimStats,
  Simulator,
  VenueName,
  VenueStats,
} from "./types.ts";
export { FAULT_KINDS } from "./types.ts";
