// A consumer process for tests: `bun relay/consumer-fixture.ts <path> <name> [resume]` (resume: the client
// resumes from its position after every reconnect, and seqs must stay contiguous across them). Counts frames, checks that data
// frames' seqs are contiguous per exchange, and prints one JSON line per event on stdout: "connected",
// "summary" at each relay Disconnected frame, "closed" when the relay drops it (it then reconnects, fresh).
import { frameExchange, frameId, frameKind, frameSeq, frameStatus, Kind, Status } from "../schema/frame.ts";
import { connectRelayConsumer } from "./client.ts";

const [path, name = "fixture", mode] = process.argv.slice(2);
const resume = mode === "resume";
if (!path) throw new Error("usage: consumer-fixture.ts <path> [name]");

const lastSeq = new Float64Array(16).fill(-1);
let data = 0;
let discontinuities = 0;
let slowConsumer: { dropped: number; exchange: number; seq: number } | null = null;
let statuses = 0;

function report(event: string, extra: Record<string, unknown> = {}): void {
  const seqs: Record<number, number> = {};
  for (let ex = 1; ex < 16; ex++) if (lastSeq[ex]! >= 0) seqs[ex] = lastSeq[ex]!;
  console.log(
    JSON.stringify({ event, name, data, statuses, discontinuities, lastSeq: seqs, slowConsumer, ...extra }),
  );
}

connectRelayConsumer({
  path,
  name,
  resume,
  reconnectMinMs: 10,
  reconnectMaxMs: 50,
  onFrame(view, offset) {
    if (frameKind(view, offset) === Kind.Status) {
      statuses++;
      const status = frameStatus(view, offset);
      if (status === Status.SlowConsumer) {
        slowConsumer = {
          dropped: frameId(view, offset),
          exchange: frameExchange(view, offset),
          seq: frameSeq(view, offset),
        };
      } else if (status === Status.Disconnected) {
        report("summary");
      }
      return;
    }
    data++;
    const ex = frameExchange(view, offset);
    const seq = frameSeq(view, offset);
    if (lastSeq[ex]! >= 0 && seq !== lastSeq[ex]! + 1) discontinuities++;
    lastSeq[ex] = seq;
  },
  onConnect() {
    if (!resume) lastSeq.fill(-1); // a new connection starts from the live point
    report("connected");
  },
  onDisconnect(reason) {
    report("closed", { reason });
  },
});
process.on("SIGTERM", () => process.exit(0));
