// Replay into a running relay's ingest socket (TAPEWIRE_RELAY_IN), as collectors would: one connection per
// exchange (the relay binds a connection to one exchange), each opened with a CollectorStart (a new run, so
// the relay takes seq 1 next instead of calling the replay duplicates of what it already had), then the
// frames with their collector seq renumbered 1, 2, 3… per exchange. The relay gives them its own journal seqs
// and journals them; its consumers get them as any live tape. Use a relay with no live collector for the
// replayed exchanges (two feeders of one exchange interleave, and the relay logs it).
import type { Logger } from "../lib/log.ts";
import {
  byteExchange,
  EXCHANGE_NAMES,
  type Exchange,
  FRAME_SIZE,
  Status,
  setByteSeq,
} from "../schema/frame.ts";
import { writeStatusFrame } from "../schema/stamp.ts";
import type { PlaybackTarget } from "./playback.ts";
import { connectRelayProducer, type RelayProducer } from "./producer.ts";

export interface IngestOptions {
  /** The running relay's ingest socket. */
  path: string;
  log: Logger;
}

export class IngestReplay implements PlaybackTarget {
  private readonly producers: (RelayProducer | undefined)[] = [];
  private readonly seq = new Float64Array(16);
  private readonly start = new Uint8Array(FRAME_SIZE);
  private lost: string | null = null;
  private finishing = false;

  constructor(private readonly opts: IngestOptions) {}

  room(): null {
    return null; // each producer's ring is checked in send(), which waits for it to drain
  }

  async send(frames: Uint8Array): Promise<void> {
    // Runs of one exchange go out in one copy each.
    let from = 0;
    while (from < frames.byteLength) {
      const ex = byteExchange(frames, from);
      let to = from + FRAME_SIZE;
      while (to < frames.byteLength && byteExchange(frames, to) === ex) to += FRAME_SIZE;
      const producer = this.producers[ex] ?? (await this.open(ex));
      let seq = this.seq[ex]!;
      for (let off = from; off < to; off += FRAME_SIZE) {
        seq = seq === 4294967295 ? 0 : seq + 1; // u32: 2^32 - 1 → 0 is contiguous for the relay
        setByteSeq(frames, off, seq);
      }
      this.seq[ex] = seq;
      while (!producer.send(frames, from, to - from)) {
        if (this.lost) throw new Error(`relay ingest connection closed: ${this.lost}`);
        await producer.drained();
      }
      from = to;
    }
  }

  async finish(): Promise<void> {
    if (this.lost) throw new Error(`relay ingest connection closed during the replay: ${this.lost}`);
    this.finishing = true; // our own close is no loss
    for (const p of this.producers) await p?.close();
  }

  private async open(ex: number): Promise<RelayProducer> {
    const producer = await connectRelayProducer({
      path: this.opts.path,
      onDisconnect: (reason) => {
        if (!this.finishing) this.lost ??= reason;
      },
    });
    const view = new DataView(this.start.buffer);
    // id = pid, price = start ms: how the relay tells a new run from a resent start (relay/README.md).
    writeStatusFrame(view, 0, Status.CollectorStart, ex as Exchange, 0, process.pid, Date.now());
    producer.send(this.start);
    this.producers[ex] = producer;
    this.opts.log.info("replaying into the relay's ingest", {
      exchange: EXCHANGE_NAMES[ex],
      path: this.opts.path,
    });
    return producer;
  }
}
