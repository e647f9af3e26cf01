// Test support: a FeedContext whose frames are collected in memory and decoded, and whose sends are recorded.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../lib/log.ts";
import { waitFor } from "../../lib/testing.ts";
import {
  decodeFrame,
  type ExchangeName,
  FRAME_SIZE,
  type FrameFields,
  tsExchangeHi,
  tsExchangeLo,
} from "../../schema/frame.ts";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../../schema/instruments.ts";
import { FrameStreamDecoder } from "../../schema/stream.ts";
import { type CollectorContext, createCollectorContext } from "./context.ts";

export interface TestContext {
  ctx: CollectorContext;
  /** Every committed frame so far, decoded. */
  frames(): FrameFields[];
  /** Exact exchange time (ns since the epoch) of each committed frame, same order as frames(). */
  exchangeTimes(): bigint[];
  /** Messages the adapter sent to the exchange. */
  sent: string[];
  /** Reconnect requests the adapter made. */
  reconnects: string[];
}

export function createTestContext(
  exchange: ExchangeName,
  registry = new InstrumentRegistry(DEFAULT_INSTRUMENTS),
): TestContext {
  const frames: FrameFields[] = [];
  const times: bigint[] = [];
  const sent: string[] = [];
  const reconnects: string[] = [];
  const ctx = createCollectorContext({
    exchange,
    registry,
    resyncsPerMinute: 600,
    resyncJitterMs: [0, 1],
    log: createLogger({ test: exchange }, () => {}),
    output: {
      accept(bytes, length) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, length);
        for (let off = 0; off < length; off += FRAME_SIZE) {
          frames.push(decodeFrame(view, off));
          times.push((BigInt(tsExchangeHi(view, off)) << 32n) | BigInt(tsExchangeLo(view, off)));
        }
        return true;
      },
    },
    send: (text) => {
      sent.push(text);
      return true;
    },
    reconnect: (reason) => reconnects.push(reason),
  });
  return { ctx, frames: () => frames, exchangeTimes: () => times, sent, reconnects };
}

export interface FrameListener extends Disposable {
  frames: FrameFields[];
  /** Resolves once `predicate(frames)` holds; rejects after timeoutMs with what was seen. */
  waitFor(predicate: (frames: FrameFields[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** A Unix socket server that decodes what collectors send: the relay's stand-in in tests. */
export function listenForFrames(socketPath: string): FrameListener {
  const frames: FrameFields[] = [];
  const decoder = new FrameStreamDecoder((view, off) => frames.push(decodeFrame(view, off)));
  const server = Bun.listen<undefined>({
    unix: socketPath,
    socket: {
      data: (_socket, chunk) => decoder.push(chunk),
    },
  });
  return {
    frames,
    async waitFor(predicate, timeoutMs = 10_000) {
      await waitFor(() => predicate(frames), { timeoutMs, what: `frames (${frames.length} seen so far)` });
    },
    close: () => server.stop(true),
    [Symbol.dispose]: () => server.stop(true),
  };
}

/** A temporary directory removed at the end of the test (`using dir = tempDir()`). */
export function tempDir(prefix = "tw-test-"): { path: string } & Disposable {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}
