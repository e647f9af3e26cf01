// The JetStream side of the link, shared by both roles: subject names, message ids, the stream's settings and
// the exporter's stored position (the last frame of an exchange's last message: the stream is the position).
import {
  DiscardPolicy,
  type JetStreamManager,
  type NatsConnection,
  NatsError,
  RetentionPolicy,
  StorageType,
} from "nats";
import { EXCHANGE_NAMES, type ExchangeName, FRAME_SIZE, FrameOffset } from "../schema/frame.ts";

/** Every frame of one exchange, in the exporting relay's order: `<prefix>.<exchange>.all`. */
export const subjectFor = (prefix: string, exchange: ExchangeName): string => `${prefix}.${exchange}.all`;

/** The exchange a subject names, or undefined for a subject that is not ours. */
export function exchangeOfSubject(prefix: string, subject: string): ExchangeName | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  const name = subject.slice(prefix.length + 1).split(".", 1)[0];
  return Object.values(EXCHANGE_NAMES).find((e) => e === name);
}

/**
 * Nats-Msg-Id of a batch: the exchange and the relay journal seq (u32) of its first frame. The same frames
 * re-sent after a reconnect or an exporter restart start at the same seq, so JetStream drops the copy
 * within its duplicate window.
 */
export const messageId = (exchange: ExchangeName, firstSeq: number): string => `${exchange}:${firstSeq}`;

/** u32 seq of the frame at `index` in a batch payload. */
export function payloadSeq(data: Uint8Array, index: number): number {
  const at = index * FRAME_SIZE + FrameOffset.seq;
  return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
}

export interface StreamSettings {
  stream: string;
  subjectPrefix: string;
  maxAgeS: number;
  duplicateWindowS: number;
}

const NS_PER_S = 1_000_000_000;

/** Create the stream if it is missing; an existing stream's settings are left as the operator set them. */
export async function ensureStream(jsm: JetStreamManager, s: StreamSettings): Promise<void> {
  try {
    await jsm.streams.info(s.stream);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await jsm.streams.add({
    name: s.stream,
    subjects: [`${s.subjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: s.maxAgeS * NS_PER_S,
    duplicate_window: s.duplicateWindowS * NS_PER_S,
  });
}

/** Next relay journal seq (u32) after the last frame stored for an exchange, or undefined if none is stored. */
export async function storedPosition(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
): Promise<number | undefined> {
  try {
    const m = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    const frames = m.data.byteLength / FRAME_SIZE;
    if (frames < 1) return undefined;
    return (payloadSeq(m.data, frames - 1) + 1) % 4294967296;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  if (!(error instanceof NatsError)) return false;
  const code = error.api_error?.err_code;
  // 10059 stream not found, 10037 no message found, 10014 consumer not found.
  return code === 10059 || code === 10037 || code === 10014 || error.code === "404";
}

/** Connection options both roles use: reconnect forever, quickly, so a NATS restart is a pause, not an exit. */
export const connectOptions = (url: string, name: string) => ({
  servers: url,
  name,
  maxReconnectAttempts: -1,
  reconnectTimeWait: 250,
  reconnectJitter: 100,
  pingInterval: 5_000,
  maxPingOut: 2,
  // No Error per request for its stack (nats.js's default builds two per JetStream publish or API call).
  noAsyncTraces: true,
});

export type { NatsConnection };
