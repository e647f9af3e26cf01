// Per-topic batching for the WebSocket fan-out. Messages of one relay read are gathered per topic and published
// at the end of the tick (a microtask): one message alone goes out as a JSON object, several as one JSON array.
// Under light load that adds no delay; under load it sends far fewer, larger WebSocket frames (perf/README.md:
// 10 trades per frame deliver ~6× more than 1 per frame).
import type { BridgeMetrics } from "./metrics.ts";
import type { Topic } from "./topics.ts";

export interface PublishTarget {
  publish(topic: string, data: string, compress?: boolean): number;
}

/** A topic's pending batch is published early past this many bytes, so no WebSocket message grows unbounded. */
export const MAX_BATCH_BYTES = 64 * 1024;

export class Publisher {
  private dirty: Topic[] = [];
  private scheduled = false;
  target: PublishTarget | null = null;
  /**
   * Bytes queued to sockets since the last afterFlush (message × subscribers: with 1,000 subscribers one 64 KiB
   * batch is 64 MiB of buffers), so a burst is checked for slow clients before it grows large.
   */
  private sinceCheck = 0;

  constructor(
    private readonly metrics: BridgeMetrics,
    /** Runs after each flush: the slow-client check. */
    private readonly afterFlush: () => void,
    private readonly checkEveryBytes = 4 << 20,
  ) {}

  push(topic: Topic, json: string): void {
    if (topic.count === 0) {
      topic.pending = json;
      this.dirty.push(topic);
    } else {
      topic.pending += `,${json}`;
    }
    topic.count++;
    this.metrics.messagesOut[topic.kind].value++;
    if (topic.pending.length > MAX_BATCH_BYTES) this.publish(topic);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private publish(topic: Topic): void {
    const data = topic.count === 1 ? topic.pending : `[${topic.pending}]`;
    this.metrics.deliveries.value += topic.count * topic.subscribers;
    this.metrics.wsPublishes.value++;
    topic.pending = "";
    topic.count = 0;
    // publish() reports the worst subscriber; a 0 or -1 is handled per client in afterFlush, never by retrying
    // (a retry would send the message again to every healthy client: perf/README.md).
    if (topic.subscribers > 0) this.target?.publish(topic.name, data, false);
    this.sinceCheck += data.length * topic.subscribers;
    if (this.sinceCheck >= this.checkEveryBytes) {
      this.sinceCheck = 0;
      this.afterFlush();
    }
  }

  /** Publish everything pending now (end of tick). */
  readonly flush = (): void => {
    this.scheduled = false;
    const topics = this.dirty;
    this.dirty = [];
    for (const t of topics) if (t.count > 0) this.publish(t);
    this.sinceCheck = 0;
    this.afterFlush();
  };
}
