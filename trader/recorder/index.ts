// The trader's recorder: spooled engine events → Postgres (trader_* tables in schema/db/trading.ts).
export { applyRecords, type RecorderDb } from "./apply.ts";
export { recorderVars } from "./config.ts";
export { type RecorderOptions, type RecorderStats, TraderRecorder } from "./recorder.ts";
export { parseRecord, SpoolLineError, type SpoolRecord } from "./records.ts";
