// The warm-path API: public surface for main.ts, tests, the benchmark and the UI's Eden client (type App).
export { type App, createApp } from "./app.ts";
export { type ApiConfig, ConfigError, loadApiConfig } from "./config.ts";
export { type ApiDeps, createDeps } from "./deps.ts";
export { CANDLES_1M_DDL } from "./market/timescale.ts";
