// A TCP proxy for tests that can be cut and restored on the same port: "the database went away".
import net from "node:net";

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private holdAfter: Buffer | null = null;
  /** Requests that matched holdRepliesAfter() and went through with their replies held (see `held`). */
  private heldCount = 0;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  /** Blackholed: bytes go nowhere and nothing closes (a silent network drop); see blackhole(). */
  private dark = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Listen (on the previous port after a stop, so URLs stay valid). */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((client) => {
        if (this.dark) {
          // Accepted (the SYN went somewhere) and never answered: the client's connect hangs.
          this.sockets.add(client);
          client.on("close", () => this.sockets.delete(client));
          client.on("error", () => {});
          client.pause();
          return;
        }
        const upstream = net.connect(this.targetPort, this.targetHost);
        const pair = { client, upstream };
        this.pairs.add(pair);
        client.on("close", () => this.pairs.delete(pair));
        for (const s of [client, upstream]) {
          this.sockets.add(s);
          s.on("close", () => this.sockets.delete(s));
          s.on("error", () => {});
        }
        client.on("data", (chunk: Buffer) => {
          if (this.holdAfter && chunk.includes(this.holdAfter)) {
            // The request goes through; its reply (and every later one) never comes back.
            upstream.unpipe(client);
            upstream.pause();
            // A test waits for this instead of sleeping for "surely in flight by now" (the pipe below writes
            // the chunk in this same 'data' event, before any waiter runs again).
            this.heldCount++;
          }
        });
        client.pipe(upstream);
        upstream.pipe(client);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => {
        this.port = (server.address() as net.AddressInfo).port;
        this.server = server;
        resolve(this.port);
      });
    });
  }

  /**
   * From the next client message that contains `text` (a statement: "COPY", "COMMIT"), the server's replies on
   * that connection are held back: the request is in flight and stays there until stop() cuts it.
   */
  holdRepliesAfter(text: string): void {
    this.holdAfter = Buffer.from(text);
  }

  /** How many requests have matched holdRepliesAfter() so far (passed on to the server, replies held). */
  get held(): number {
    return this.heldCount;
  }

  /**
   * A blackhole, as a dead link or a dropped route makes one: open connections stop carrying bytes either way,
   * with no FIN and no RST, and new connections are accepted but never answered. lift() lets new connections
   * through again; the blackholed ones stay dead (their peers never hear of it), as after a real outage.
   */
  blackhole(): void {
    this.dark = true;
    this.holdAfter = null;
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    this.pairs.clear();
  }

  lift(): void {
    this.dark = false;
  }

  /** Refuse new connections and cut the open ones. */
  stop(): Promise<void> {
    this.holdAfter = null;
    this.dark = false;
    this.pairs.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
