// The database writer's own view of the relay stream. The WebSocket side starts from live; the writer resumes
// from the position committed with its rows (relay_positions), so it needs its own relay consumer and its own
// frame router: rows only, never a publish, with its own book and BBO state (book_tops samples come from it).
//
// Wiring (bridge/main.ts): const positions = await readRelayPositions(sql);
//   connectRelayConsumer({ name: DB_CONSUMER, resume: true, startFrom: resumeFrom(positions), onFrame: db.onFrame })
// (sink/resume.test.ts runs exactly this against a real relay and journal.)
import type { Logger } from "../../lib/log.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";
import type { BridgeMetrics } from "../metrics.ts";
import { FrameRouter } from "../router.ts";
import type { RowEncoder } from "../rows.ts";
import { type BookDepths, TopicTable } from "../topics.ts";

const NO_PUBLISH = { push: () => {} };

export function createDbRouter(opts: {
  registry: InstrumentRegistry;
  bookDepths: BookDepths;
  rows: RowEncoder;
  metrics: BridgeMetrics;
  log: Logger;
}): FrameRouter {
  const table = new TopicTable(opts.registry, opts.bookDepths);
  return new FrameRouter(table, NO_PUBLISH, opts.rows, opts.metrics, opts.log);
}
