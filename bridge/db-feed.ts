// The database writer's feed: its own resuming relay consumer (DB_CONSUMER), started from the positions the
// database holds (relay_positions, read on the writer's connection), and stopped while the writer can take no
// more (memory full, spool failing: BatchWriter's pressure listener). Stopping leaves the relay; starting again
// resumes from the next frame after the last one handed on, so the relay's journal holds whatever came
// meanwhile and nothing is skipped or dropped.
import type { Logger } from "../lib/log.ts";
import type { ResumePosition } from "../relay/filter.ts";
import { connectRelayConsumer, type RelayConsumer } from "../relay/index.ts";
import { DB_CONSUMER, resumeFrom } from "./sink/positions.ts";
import type { RelayPosition } from "./sink/types.ts";

export interface DbFeedOptions {
  relayPath: string;
  /** The positions the database holds (PostgresSink.positions). */
  positions: () => Promise<RelayPosition[]>;
  onFrame: (view: DataView, offset: number) => void;
  log: Logger;
}

export class DbFeed {
  private consumer: RelayConsumer | null = null;
  /** Where the next connection starts: the stored positions first, then the consumer's own after a pause. */
  private start: ResumePosition | null = null;
  private paused = false;
  private closed = false;

  constructor(private readonly opts: DbFeedOptions) {}

  /**
   * Read the stored positions (retrying with backoff while the database cannot be read: the journal keeps the
   * frames) and connect. Not awaited by the caller: a database down at start must not hold up the bridge.
   */
  async run(): Promise<void> {
    let delay = 250;
    while (!this.closed && this.start === null) {
      try {
        this.start = resumeFrom(await this.opts.positions());
        this.opts.log.info("database writer resumes", { startFrom: this.start });
      } catch (error) {
        this.opts.log.limited(
          "warn",
          "db-positions",
          "cannot read relay_positions yet: the journal keeps the frames",
          { error },
        );
        await Bun.sleep(delay);
        delay = Math.min(delay * 2, 10_000);
      }
    }
    this.connect();
  }

  /** Frames handed on, only while running (a pause drops what the closing socket still delivers). */
  private readonly onFrame = (view: DataView, offset: number): void => {
    if (!this.paused) this.opts.onFrame(view, offset);
  };

  private connect(): void {
    if (this.closed || this.paused || this.consumer || this.start === null) return;
    this.consumer = connectRelayConsumer({
      path: this.opts.relayPath,
      name: DB_CONSUMER,
      resume: true,
      startFrom: this.start,
      onFrame: this.onFrame,
      onDisconnect: (reason) =>
        this.opts.log.warn("database consumer: relay disconnected, resuming", { reason }),
    });
  }

  /** Stop taking frames; resume() goes on from the frame after the last one handed on. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    const c = this.consumer;
    this.consumer = null;
    if (c && this.start) {
      // Exchanges this consumer has not seen yet start, as before, from the time of the latest commit.
      this.start = { from: { ...this.start.from, ...c.position }, fromTime: this.start.fromTime };
      this.opts.log.warn("database feed paused: the relay journal keeps the frames", {
        resumeAt: this.start,
      });
    }
    c?.close();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.opts.log.info("database feed resumes", { startFrom: this.start });
    this.connect();
  }

  close(): void {
    this.closed = true;
    this.consumer?.close();
    this.consumer = null;
  }
}
