// Coinbase Advanced Trade `sequence_num` counts every message on one connection, across all channels
// (acks and heartbeats included), not per product: a jump means this connection lost messages, and it
// cannot say which product they belonged to. A repeat or a step back is a stale message, to be ignored.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview#sequence-numbers

export const SequenceResult = { InOrder: 0, Gap: 1, Stale: 2 } as const;
export type SequenceResult = (typeof SequenceResult)[keyof typeof SequenceResult];

export class ConnectionSequence {
  /** The next sequence_num we expect; -1 until the first message of a connection sets the baseline. */
  private expected = -1;
  /** After a Gap: the first missing number and how many are missing. */
  firstMissing = 0;
  missing = 0;

  /** A new connection: its first message is the baseline, whatever its number. */
  reset(): void {
    this.expected = -1;
  }

  check(seq: number): SequenceResult {
    const expected = this.expected;
    if (expected < 0 || seq === expected) {
      this.expected = seq + 1;
      return SequenceResult.InOrder;
    }
    if (seq > expected) {
      this.firstMissing = expected;
      this.missing = seq - expected;
      this.expected = seq + 1;
      return SequenceResult.Gap;
    }
    return SequenceResult.Stale;
  }
}
