// `bun run replay` core: plays journal frames to a target at their recorded pace (tsRecv), N× that, or as
// fast as the target takes them. Frames keep their journal order; pacing never reorders. The targets are
// relay/playback-serve.ts (a replay relay consumers connect to, frames byte for byte) and
// relay/playback-ingest.ts (a running relay's ingest socket, as a collector).
import { byteTsRecv, FRAME_SIZE } from "../schema/frame.ts";

export interface PlaybackTarget {
  /**
   * Resolves once `bytes` more can be taken without dropping anything (a replay waits for its slowest
   * consumer rather than cutting it); null when there is room now.
   */
  room(bytes: number): Promise<void> | null;
  /** Take whole frames (valid only during the call, or until a returned promise settles). */
  send(frames: Uint8Array): void | Promise<void>;
  /** Everything taken is delivered (or handed to the kernel); then close. */
  finish(): Promise<void>;
}

export interface PlaybackOptions {
  /** Recorded pace × speed; Infinity = as fast as the target takes them. */
  speed: number;
  /** Longest wait between two frames, ms of replay time (a night's silence need not be waited out). */
  maxPauseMs?: number;
  /** Called once just before the first frame goes out. */
  onStart?(): void;
}

export interface PlaybackResult {
  frames: number;
  /** tsRecv of the first and last stamped frames, ns (0 when none). */
  firstTsNs: number;
  lastTsNs: number;
  /** From the first frame sent to the last, ms. */
  elapsedMs: number;
}

/** "max" (as fast as possible), "recorded" (1), or a factor: "2", "2x", "0.5x". */
export function parseSpeed(text: string): number {
  if (text === "max") return Number.POSITIVE_INFINITY;
  if (text === "recorded") return 1;
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(text);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!(n > 0) || !Number.isFinite(n))
    throw new RangeError(`speed ${JSON.stringify(text)}: expected recorded, max, or a factor > 0 like 2x`);
  return n;
}

export async function play(
  chunks: Iterable<Uint8Array>,
  target: PlaybackTarget,
  opts: PlaybackOptions,
): Promise<PlaybackResult> {
  const paced = Number.isFinite(opts.speed);
  const msPerNs = 1 / (1e6 * opts.speed);
  const maxPause = opts.maxPauseMs ?? Number.POSITIVE_INFINITY;
  let frames = 0;
  let first = 0;
  let last = 0;
  let t0 = -1;
  /** Replay-time offset (ms since t0) the last frame was due at. */
  let due = 0;
  const out = async (bytes: Uint8Array) => {
    if (bytes.byteLength === 0) return;
    const wait = target.room(bytes.byteLength);
    if (wait) await wait;
    await target.send(bytes);
    frames += bytes.byteLength / FRAME_SIZE;
  };
  for (const chunk of chunks) {
    if (t0 < 0 && chunk.byteLength > 0) {
      opts.onStart?.();
      t0 = performance.now(); // the first frame is due now
    }
    let from = 0;
    if (paced) {
      for (let off = 0; off < chunk.byteLength; off += FRAME_SIZE) {
        const ts = byteTsRecv(chunk, off);
        if (ts <= 0) continue; // unstamped: goes with the frame before it
        if (last > 0 && ts > last) due += Math.min((ts - last) * msPerNs, maxPause);
        if (first === 0) first = ts;
        if (ts > last) last = ts;
        const at = t0 + due;
        if (at - performance.now() < 0.5) continue;
        await out(chunk.subarray(from, off));
        from = off;
        const left = at - performance.now();
        if (left > 0) await Bun.sleep(left);
      }
    } else {
      for (let off = 0; off < chunk.byteLength; off += FRAME_SIZE) {
        const ts = byteTsRecv(chunk, off);
        if (ts <= 0) continue;
        if (first === 0) first = ts;
        if (ts > last) last = ts;
      }
    }
    await out(chunk.subarray(from));
  }
  const elapsedMs = t0 < 0 ? 0 : performance.now() - t0;
  await target.finish();
  return { frames, firstTsNs: first, lastTsNs: last, elapsedMs };
}
