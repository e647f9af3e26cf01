// Which clients to cut for slowness. Three bounds, so that neither one client nor many together can hold the
// bridge's memory (issue 8: 200 non-reading clients each stayed under the per-client limit and together grew
// the process by 410 MB):
//   - buffer: one client's unsent bytes past maxBufferedBytes;
//   - behind: a client that has had at least `behindBytes` unsent for longer than maxBehindMs;
//   - budget: the unsent bytes of all clients together past maxTotalBufferedBytes: the clients holding the
//     most are cut until the total is back under the budget.
// A cut client gets {"type":"error","code":"slow_client"} and a close frame behind its unsent bytes. Bun (uWS)
// keeps a gracefully closed socket and its buffer for ~16 s when the peer does not read (measured: a 2.5 MB
// buffer is freed 15-16 s after close()), so graceful closes are bounded too (CloseBudget): past
// maxClosingBytes a cut client is terminated at once, buffer and all (it was not reading the message anyway).

import type { SlowReason } from "../schema/messages.ts";

/** Why a client was cut (the "reason" of its slow_client message; schema/messages.ts). */
export type { SlowReason };

export interface SlowLimits {
  maxBufferedBytes: number;
  maxTotalBufferedBytes: number;
  maxBehindMs: number;
  /** Unsent bytes that gracefully closed sockets may still hold (see CloseBudget). */
  maxClosingBytes: number;
}

/** What the policy needs to know about a client (the hub's ClientData). */
export interface SlowState {
  /** performance.now() when it was first seen at least behindBytes behind; 0 = not behind. */
  behindSince: number;
  /** Cut or closing: skipped. */
  closing: boolean;
}

export interface SlowSocket {
  readonly data: SlowState;
  getBufferedAmount(): number;
}

/** How long uWS keeps a closed socket whose peer does not answer the close (measured 15-16 s; with margin). */
export const CLOSE_LINGER_MS = 17_000;

/**
 * Bytes held by gracefully closed sockets over the last CLOSE_LINGER_MS. `admit` says whether one more
 * graceful close of `bytes` fits; if not, the caller terminates the socket instead.
 */
export class CloseBudget {
  private readonly entries: { at: number; bytes: number }[] = [];
  private head = 0;
  held = 0;

  constructor(private readonly maxBytes: number) {}

  admit(bytes: number, now: number): boolean {
    while (this.head < this.entries.length && now - this.entries[this.head]!.at >= CLOSE_LINGER_MS) {
      this.held -= this.entries[this.head]!.bytes;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    if (this.held + bytes > this.maxBytes) return false;
    this.entries.push({ at: now, bytes });
    this.held += bytes;
    return true;
  }
}

export interface SlowVerdict {
  /** Unsent bytes of the clients not cut, after this check's cuts. */
  totalBuffered: number;
}

/**
 * One pass over the clients (`now` from performance.now(), never 0). `cut` is called for each client to drop
 * (it must set data.closing); `keep` for
 * every other client with its unsent byte count (the hub's conflation policy).
 */
export function checkSlowClients<S extends SlowSocket>(
  clients: Iterable<S>,
  limits: SlowLimits,
  behindBytes: number,
  now: number,
  cut: (ws: S, reason: SlowReason) => void,
  keep: (ws: S, buffered: number) => void,
): SlowVerdict {
  let total = 0;
  let kept: { ws: S; buffered: number }[] | null = null;
  for (const ws of clients) {
    const d = ws.data;
    if (d.closing) continue;
    const buffered = ws.getBufferedAmount();
    if (buffered > limits.maxBufferedBytes) {
      cut(ws, "buffer");
      continue;
    }
    if (buffered >= behindBytes) {
      if (d.behindSince === 0) d.behindSince = now;
      else if (now - d.behindSince >= limits.maxBehindMs) {
        cut(ws, "behind");
        continue;
      }
    } else d.behindSince = 0;
    total += buffered;
    if (buffered > 0) {
      kept ??= [];
      kept.push({ ws, buffered });
    }
    keep(ws, buffered);
  }
  if (total > limits.maxTotalBufferedBytes && kept) {
    // Over budget (rare, so the sort's allocation is fine): the largest buffers go first.
    kept.sort((a, b) => b.buffered - a.buffered);
    for (const k of kept) {
      if (total <= limits.maxTotalBufferedBytes) break;
      cut(k.ws, "budget");
      total -= k.buffered;
    }
  }
  return { totalBuffered: total };
}
