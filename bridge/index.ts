// The bridge package: relay frames → JSON over WebSockets (docs/stream-api.md) and → Postgres (docs/storage.md).
export { type Bridge, type BridgeDeps, startBridge } from "./bridge.ts";
export { type ClientData, ClientHub, SLOW_CLIENT_CLOSE_CODE } from "./clients.ts";
export { type BridgeConfig, BridgeConfigError, loadBridgeConfig } from "./config.ts";
export { BridgeMetrics } from "./metrics.ts";
export { RowEncoder } from "./rows.ts";
export { PostgresSink } from "./sink/postgres.ts";
export { Spool } from "./sink/spool.ts";
export { type Batch, type BatchSink, SinkError, type TableName } from "./sink/types.ts";
export { BatchWriter } from "./sink/writer.ts";
