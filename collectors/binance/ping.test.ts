// Binance pings every 20 s and disconnects a client that does not pong within a minute. The adapter sends
// no pongs itself because Bun's WebSocket client answers ping frames on its own, echoing the payload, as
// Binance requires. This pins that behaviour of the runtime.
import { expect, test } from "bun:test";

test("Bun's WebSocket client answers a server ping with a pong carrying the same payload", async () => {
  const pongs: string[] = [];
  let resolve!: () => void;
  const got = new Promise<void>((r) => {
    resolve = r;
  });
  using server = Bun.serve({
    port: 0,
    fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("upgrade required", { status: 426 })),
    websocket: {
      open: (ws) => void ws.ping("1770123456789"),
      message() {},
      pong(_ws, data) {
        pongs.push(new TextDecoder().decode(data));
        resolve();
      },
    },
  });
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
  await got;
  ws.close();
  expect(pongs).toEqual(["1770123456789"]);
});
