export * from "./accounts.ts";
export * from "./archive.ts";
export * from "./backtests.ts";
export * from "./market.ts";
export * from "./trading.ts";
