// A ClientHub with sockets whose unsent byte count the test sets, for the slow-client and auth policies.

import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../schema/instruments.ts";
import type { ClientAuth } from "./auth.ts";
import { type ClientData, ClientHub, type ClientSocket, type HubLimits } from "./clients.ts";
import { BridgeMetrics } from "./metrics.ts";
import { memoryLogger } from "./testing.ts";
import { TopicTable } from "./topics.ts";

export class FakeSocket implements ClientSocket {
  buffered = 0;
  readonly subscribed = new Set<string>();
  readonly sent: string[] = [];
  closedWith: number | null = null;
  terminated = false;
  constructor(readonly data: ClientData) {}
  terminate() {
    this.terminated = true;
  }
  subscribe(t: string) {
    this.subscribed.add(t);
  }
  unsubscribe(t: string) {
    this.subscribed.delete(t);
  }
  sendText(s: string) {
    this.sent.push(s);
    return s.length;
  }
  getBufferedAmount() {
    return this.buffered;
  }
  close(code?: number) {
    this.closedWith = code ?? 1000;
  }
  /** The last message sent, parsed. */
  last(): Record<string, unknown> {
    return JSON.parse(this.sent.at(-1) ?? "null");
  }
}

export function setupHub(limits: Partial<HubLimits> = {}) {
  const registry = new InstrumentRegistry(DEFAULT_INSTRUMENTS);
  const table = new TopicTable(registry, { kraken: 10, other: 100 });
  const metrics = new BridgeMetrics();
  const log = memoryLogger();
  const hub = new ClientHub(
    table,
    registry,
    {
      maxBufferedBytes: 1600,
      maxSubscriptions: 8,
      maxTotalBufferedBytes: 1 << 30,
      maxBehindMs: 3_600_000,
      maxClosingBytes: 1 << 30,
      ...limits,
    },
    metrics,
    log,
  );
  const connect = (auth: ClientAuth | null = null) => {
    const ws = new FakeSocket(hub.newClientData("test", auth));
    hub.open(ws);
    return ws;
  };
  const ws = connect();
  return { table, metrics, hub, ws, log, connect };
}
