// Per-venue connection and message counters behind stats(), and the one send path that counts.
import type { ServerWebSocket } from "bun";

export interface SocketData {
  venue: "kraken" | "coinbase" | "binance";
  url: string;
  /** The venue's connection object, set on open. */
  conn: unknown;
}

export type SimSocket = ServerWebSocket<SocketData>;

export class VenueCounters {
  open = 0;
  total = 0;
  received = 0;
  rest = 0;
  /** Sends refused by the socket (closed or over the backpressure limit). */
  refused = 0;
  readonly sent: Record<string, number> = {};

  send(ws: SimSocket, text: string, channel: string): void {
    const status = ws.send(text);
    if (status === 0) this.refused++;
    this.sent[channel] = (this.sent[channel] ?? 0) + 1;
  }
}
