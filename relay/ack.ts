// Acknowledged ingest (relay → collector, /work of issue 10 §3; protocol in relay/README.md): once the journal
// has committed a connection's frames, the relay writes one Status Ack frame back on that connection with the
// highest collector seq journaled (or settled as a duplicate). A collector frees what is acknowledged and
// resends the rest after a reconnect. At most one ack is in flight per connection: a collector that does not
// read gets the newest ack once its socket drains, and the frame stream it reads stays aligned.
import type { Socket } from "bun";
import { type Exchange, FRAME_SIZE, Status } from "../schema/frame.ts";
import { writeStatusFrame } from "../schema/stamp.ts";
import type { IngestConnection } from "./ingest.ts";

export class AckSender {
  private readonly out = new Uint8Array(FRAME_SIZE);
  private readonly view = new DataView(this.out.buffer);
  sent = 0;

  /** Ack every connection whose last read is committed (`committed` = the journal's committed position). */
  ackAll(
    connections: Iterable<[Socket<IngestConnection | undefined>, IngestConnection]>,
    committed: number,
  ): void {
    for (const [socket, conn] of connections) {
      if (conn.ackSeq < 0 || conn.ackSeq === conn.ackedSeq || conn.ackPos > committed || conn.exchange === 0)
        continue;
      if (conn.ackPending !== null) continue; // the previous one is still going out
      writeStatusFrame(this.view, 0, Status.Ack, conn.exchange as Exchange, conn.ackSeq, conn.ackSeq, 0);
      conn.ackedSeq = conn.ackSeq;
      this.sent++;
      const n = socket.write(this.out);
      if (n >= 0 && n < FRAME_SIZE) conn.ackPending = this.out.slice(n);
    }
  }

  /** The collector's socket drained: finish a partly written ack. */
  drain(socket: Socket<IngestConnection | undefined>, conn: IngestConnection): void {
    const rest = conn.ackPending;
    if (rest === null) return;
    const n = socket.write(rest);
    conn.ackPending = n < 0 || n >= rest.byteLength ? null : rest.subarray(n);
  }
}
