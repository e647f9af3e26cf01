// Test helpers for the bridge: a fresh migrated database per test file, frame builders and a WebSocket client
// that waits for conditions (no sleeps).
import type postgres from "postgres";
import { createLogger, type Logger } from "../lib/log.ts";
import { freshDatabase as sharedFreshDatabase } from "../lib/testing.ts";
import { encodeFrame, FRAME_SIZE, type FrameFields, Kind } from "../schema/frame.ts";

export const TEST_PG = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A logger that keeps its lines (tests assert on them) instead of printing. */
export function memoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => lines.push(JSON.parse(line)));
  return Object.assign(log, { lines });
}

export interface TestDatabase {
  url: string;
  name: string;
  sql: postgres.Sql;
  drop(): Promise<void>;
}

/** A fresh migrated database (lib/testing.ts freshDatabase, the one implementation); drop() removes it. */
export async function freshDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  return sharedFreshDatabase({ migrate: opts.migrate, prefix: "tw_bridge" });
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Frames in one buffer, as the relay delivers them. */
export class Frames {
  private buf = new Uint8Array(FRAME_SIZE * 64);
  count = 0;

  add(f: Partial<FrameFields> & Pick<FrameFields, "kind" | "exchange" | "instrument">): this {
    if ((this.count + 1) * FRAME_SIZE > this.buf.byteLength) {
      const bigger = new Uint8Array(this.buf.byteLength * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    encodeFrame(new DataView(this.buf.buffer), this.count * FRAME_SIZE, {
      flags: 0,
      seq: 0,
      id: 0,
      price: 0,
      size: 0,
      tsExchange: 0,
      tsRecv: 0,
      ...f,
    });
    this.count++;
    return this;
  }

  trade(
    exchange: number,
    instrument: number,
    id: number,
    price: number,
    size: number,
    flags = 0x10,
    ts = 1.7e18,
  ): this {
    return this.add({
      kind: Kind.Trade,
      flags,
      exchange: exchange as FrameFields["exchange"],
      instrument,
      seq: id,
      id,
      price,
      size,
      tsExchange: ts + id * 1000,
      tsRecv: ts + id * 1000 + 5000,
    });
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.count * FRAME_SIZE);
  }

  /** Feed every frame to a handler, as the relay client would. */
  feed(onFrame: (view: DataView, offset: number) => void): void {
    const view = new DataView(this.buf.buffer, 0, this.count * FRAME_SIZE);
    for (let off = 0; off < this.count * FRAME_SIZE; off += FRAME_SIZE) onFrame(view, off);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: test messages are whatever JSON the bridge sent
export type Msg = Record<string, any>;

/** A WebSocket client that records every message (batches flattened) and waits for conditions. */
export class TestClient {
  readonly messages: Msg[] = [];
  /** Raw WebSocket messages as received (to see batching). */
  readonly raw: string[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (ev) => {
      const text = String(ev.data);
      this.raw.push(text);
      const value = JSON.parse(text);
      if (Array.isArray(value)) this.messages.push(...value);
      else this.messages.push(value);
      this.notify();
    };
    ws.onclose = (ev) => {
      this.closed = { code: ev.code, reason: ev.reason };
      this.notify();
    };
  }

  static connect(url: string, headers?: Record<string, string>): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      // Bun's WebSocket accepts headers (Origin tests).
      const ws = new WebSocket(url, headers ? ({ headers } as unknown as string[]) : undefined);
      const client = new TestClient(ws);
      ws.onopen = () => resolve(client);
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** Send a request and wait for its reply (subscribed / unsubscribed / error). */
  async request(msg: unknown): Promise<Msg> {
    const before = this.messages.length;
    this.send(msg);
    await this.waitFor(() =>
      this.messages.slice(before).some((m) => ["subscribed", "unsubscribed", "error"].includes(m.type)),
    );
    return this.messages.slice(before).find((m) => ["subscribed", "unsubscribed", "error"].includes(m.type))!;
  }

  of(type: string): Msg[] {
    return this.messages.filter((m) => m.type === type);
  }

  waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`condition not met in ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  close(): void {
    this.ws.close();
  }

  /** `await using client = await TestClient.connect(...)`: closed, and its close seen, at the end of scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.closed) return;
    this.ws.close();
    await this.waitFor(() => this.closed !== null, 5000).catch(() => {});
  }
}
