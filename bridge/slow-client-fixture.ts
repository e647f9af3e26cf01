// A WebSocket client on a raw TCP socket that can stop reading (pause), to play a slow browser in tests.
// Bun's WebSocket client always reads; node:net lets the kernel buffers fill up behind a paused socket.
import net from "node:net";

export interface Closed {
  code: number;
  /** The last text message before the close frame. */
  lastText: string;
}

export class SlowClient {
  private buf = Buffer.alloc(0);
  private handshaken = false;
  private onText: ((text: string) => void) | null = null;
  private lastText = "";
  readonly closed: Promise<Closed>;
  private resolveClosed!: (c: Closed) => void;

  private constructor(private readonly sock: net.Socket) {
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
    sock.on("data", (chunk: Buffer) => this.data(chunk));
    sock.on("close", () => this.resolveClosed({ code: 1006, lastText: this.lastText }));
  }

  static connect(port: number): Promise<SlowClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, "127.0.0.1");
      const client = new SlowClient(sock);
      sock.once("error", reject);
      sock.once("connect", () => {
        sock.write(
          "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        );
      });
      const wait = setInterval(() => {
        if (client.handshaken) {
          clearInterval(wait);
          resolve(client);
        }
      }, 5);
    });
  }

  /** Send a JSON request and wait for the reply. */
  subscribe(msg: unknown): Promise<string> {
    return new Promise((resolve) => {
      this.onText = (text) => {
        this.onText = null;
        resolve(text);
      };
      this.sendText(JSON.stringify(msg));
    });
  }

  pause(): void {
    this.sock.pause();
  }

  resume(): void {
    this.sock.resume();
  }

  destroy(): void {
    this.sock.destroy();
  }

  private sendText(text: string): void {
    const payload = Buffer.from(text);
    const mask = Buffer.from([1, 2, 3, 4]);
    const head =
      payload.length < 126
        ? Buffer.from([0x81, 0x80 | payload.length])
        : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
    const masked = Buffer.alloc(payload.length);
    for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
    this.sock.write(Buffer.concat([head, mask, masked]));
  }

  private data(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (!this.handshaken) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.handshaken = true;
      this.buf = this.buf.subarray(end + 4);
    }
    for (;;) {
      if (this.buf.length < 2) return;
      const op = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buf.length < at + len) return;
      const payload = this.buf.subarray(at, at + len);
      this.buf = this.buf.subarray(at + len);
      if (op === 1) {
        this.lastText = payload.toString();
        this.onText?.(this.lastText);
      } else if (op === 8) {
        this.resolveClosed({
          code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
          lastText: this.lastText,
        });
        this.sock.destroy();
        return;
      }
    }
  }
}
