// Redis pub/sub and NATS fanning the same 48-byte messages to JS subscribers; the publisher is uds.c `pprod`
// (pipelined PUBLISH / PUB at max rate), so the broker and its JS client are what is measured.
import { join } from "node:path";
import { hostNowNs as nowNs } from "../relay/hop.ts";
import type { CRef } from "./relay-bench-c.ts";
import { type Helper, spawnHelper } from "./relay-bench-procs.ts";

const SUB = join(import.meta.dir, "relay-bench-broker-sub.ts");

export async function brokerThroughput(
  work: string,
  uds: CRef,
  broker: "redis" | "nats",
  url: string,
  subscribers: number,
  messages: number,
): Promise<{ perSubscriber: number; lost: number }> {
  const target = new URL(url).host;
  const subs: Helper[] = [];
  try {
    for (let i = 0; i < subscribers; i++)
      subs.push(spawnHelper(["bun", SUB, broker, url, `${broker}-${i}`, String(messages), "1500"]));
    await Promise.all(subs.map((h) => h.line((l) => l.ready === true, "subscribed", 10_000)));
    const t0 = nowNs();
    const pub = spawnHelper([uds.bin, "pprod", broker, target, "0", String(messages), "64"], work);
    const results = await Promise.all(
      subs.map((h) => h.line((l) => typeof l.count === "number", "subscriber result")),
    );
    await pub.proc.exited;
    // Per subscriber: what it received over the time from publish start to its last message.
    const rates = results.map((r) => ((r.count as number) / ((r.tLast as number) - t0)) * 1e9);
    const lost = results.reduce((s, r) => s + (messages - (r.count as number)) + (r.bad as number), 0);
    return { perSubscriber: Math.min(...rates), lost };
  } finally {
    await Promise.all(subs.map((h) => h.kill()));
  }
}
