// Prints the wire contract and the instrument registry from schema/ as JSON, so the Python package reads
// the same definitions instead of a hand-copied copy: `bun trader/schema-export.ts`.
import {
  EXCHANGE_IDS,
  FLAG_ASK,
  FLAG_BACKFILL,
  FLAG_BEGIN,
  FLAG_END,
  FLAG_SNAPSHOT,
  FLAG_TAKER_BUY,
  FLAG_TAKER_SELL,
  FRAME_ERROR_NAMES,
  FRAME_SIZE,
  FrameOffset,
  KIND_IDS,
  KNOWN_FLAGS,
  MAX_MANTISSA,
  MAX_STATUS,
  RESYNC_REASON_NAMES,
  STATUS_NAMES,
  WIRE_VERSION,
} from "../schema/frame.ts";
import { loadRegistry } from "../schema/instruments.ts";

export function schemaExport(env: Record<string, string | undefined> = process.env) {
  return {
    frameSize: FRAME_SIZE,
    wireVersion: WIRE_VERSION,
    offsets: FrameOffset,
    kinds: KIND_IDS,
    exchanges: EXCHANGE_IDS,
    statuses: STATUS_NAMES,
    resyncReasons: RESYNC_REASON_NAMES,
    frameErrors: FRAME_ERROR_NAMES,
    maxMantissa: MAX_MANTISSA,
    maxStatus: MAX_STATUS,
    knownFlags: KNOWN_FLAGS,
    flags: {
      takerBuy: FLAG_TAKER_BUY,
      takerSell: FLAG_TAKER_SELL,
      backfill: FLAG_BACKFILL,
      ask: FLAG_ASK,
      snapshot: FLAG_SNAPSHOT,
      begin: FLAG_BEGIN,
      end: FLAG_END,
    },
    instruments: loadRegistry(env).all,
  };
}

if (import.meta.main) process.stdout.write(`${JSON.stringify(schemaExport())}\n`);
