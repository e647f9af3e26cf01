// Test helpers: a plain WebSocket client that records every frame and waits for conditions.

export interface Received {
  index: number;
  text: string;
  /** Parsed JSON, or undefined if the frame is not valid JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary exchange JSON
  json: any;
  /** performance.now() at receipt. */
  at: number;
}

export class TestClient {
  readonly frames: Received[] = [];
  closed = false;
  closeCode = 0;
  private waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      const text = String(e.data);
      // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary exchange JSON
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.frames.push({ index: this.frames.length, text, json, at: performance.now() });
      this.wake();
    };
    ws.onclose = (e) => {
      this.closed = true;
      this.closeCode = e.code;
      this.wake();
    };
  }

  static connect(url: string): Promise<TestClient> {
    const ws = new WebSocket(url);
    const client = new TestClient(ws);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(client);
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }

  send(value: unknown): void {
    this.ws.send(typeof value === "string" ? value : JSON.stringify(value));
  }

  close(): void {
    if (!this.closed) this.ws.close();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first frame at or after `from` that matches. */
  waitFor(pred: (f: Received) => boolean, from = 0, timeoutMs = 5000, what = "frame"): Promise<Received> {
    return new Promise((resolve, reject) => {
      let scanned = from;
      const check = () => {
        for (; scanned < this.frames.length; scanned++) {
          const f = this.frames[scanned]!;
          if (pred(f)) {
            done();
            resolve(f);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what} (${this.frames.length} frames received)`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits until `count` frames at or after `from` match; returns them. */
  async collect(
    pred: (f: Received) => boolean,
    count: number,
    from = 0,
    timeoutMs = 5000,
  ): Promise<Received[]> {
    const out: Received[] = [];
    let at = from;
    while (out.length < count) {
      const f = await this.waitFor(pred, at, timeoutMs, `${count} frames (have ${out.length})`);
      out.push(f);
      at = f.index + 1;
    }
    return out;
  }

  waitClosed(timeoutMs = 5000): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.closed) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(this.closeCode);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error("timed out waiting for close"));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

/** Standard (zlib/IEEE) CRC32, table driven; independent of the simulator's Bun.hash.crc32. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(text: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < text.length; i++) c = CRC_TABLE[(c ^ text.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Kraken checksum per the docs, on level text exactly as written: drop the dot, then leading zeros. */
export function krakenChecksumText(asks: [string, string][], bids: [string, string][]): number {
  const fmt = (s: string) => s.replace(".", "").replace(/^0+/, "");
  let text = "";
  for (const [p, q] of asks.slice(0, 10)) text += fmt(p) + fmt(q);
  for (const [p, q] of bids.slice(0, 10)) text += fmt(p) + fmt(q);
  return crc32(text);
}

// Kraken helpers shared by the Kraken tests.
export type Level = [string, string];

/** Levels exactly as written on the wire (JSON.parse would drop trailing zeros). */
export function rawLevels(text: string, key: "bids" | "asks"): Level[] {
  const start = text.indexOf(`"${key}":[`) + key.length + 4;
  const body = text.slice(start, text.indexOf("]", start));
  return [...body.matchAll(/\{"price":([0-9.]+),"qty":([0-9.]+)\}/g)].map((m) => [m[1]!, m[2]!]);
}

/** A client book kept the documented way: apply in order, delete qty 0, truncate to depth. */
export class ClientBook {
  bids = new Map<string, string>();
  asks = new Map<string, string>();
  constructor(readonly depth: number) {}
  apply(text: string): void {
    for (const [key, side] of [
      ["bids", this.bids],
      ["asks", this.asks],
    ] as const) {
      for (const [p, q] of rawLevels(text, key)) {
        if (Number(q) === 0) side.delete(p);
        else side.set(p, q);
      }
    }
    this.bids = new Map(this.sorted("bids").slice(0, this.depth));
    this.asks = new Map(this.sorted("asks").slice(0, this.depth));
  }
  sorted(key: "bids" | "asks"): Level[] {
    const dir = key === "bids" ? -1 : 1;
    return [...(key === "bids" ? this.bids : this.asks)].sort((a, b) => dir * (Number(a[0]) - Number(b[0])));
  }
  checksum(): number {
    return krakenChecksumText(this.sorted("asks"), this.sorted("bids"));
  }
  crossed(): boolean {
    const b = this.sorted("bids")[0];
    const a = this.sorted("asks")[0];
    return b !== undefined && a !== undefined && Number(b[0]) >= Number(a[0]);
  }
}
