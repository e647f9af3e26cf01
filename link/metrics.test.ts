// The link processes' /metrics, /health and /ready (link/metrics.ts): `bun link/main.ts export` and `import`
// as processes between two real relays on the shared NATS; after a burst, what the exporter says it published
// is what the importer says it received and the local relay acknowledged, per exchange.
import { afterAll, expect, test } from "bun:test";
import { connectRelayProducer } from "../relay/producer.ts";
import { startRelayProcess, waitFor } from "../relay/testing.ts";
import { Exchange } from "../schema/frame.ts";
import { dropStream, linkEnv, SHARED_NATS, spawnLink, startImportingRelay, TradeSource } from "./testing.ts";

const streams: string[] = [];
afterAll(async () => {
  for (const s of streams) await dropStream(SHARED_NATS, s);
});

test("export and import serve /metrics, /health, /ready: frames published = frames received = acknowledged", async () => {
  const env = linkEnv({ TAPEWIRE_LINK_BATCH_FRAMES: "100" });
  streams.push(env.TAPEWIRE_LINK_STREAM!);
  await using relayA = await startRelayProcess();
  await using relayB = await startImportingRelay();
  await using exporter = await spawnLink("export", { ...env, TAPEWIRE_RELAY_OUT: relayA.outPath });
  await using importer = await spawnLink("import", {
    ...env,
    TAPEWIRE_RELAY_PASSTHROUGH_IN: relayB.passthroughPath,
  });
  expect(exporter.metricsPort).toBeGreaterThan(0);
  expect(importer.metricsPort).toBeGreaterThan(0);

  await using producer = await connectRelayProducer({ path: relayA.inPath });
  const source = new TradeSource(Exchange.Kraken);
  for (let i = 0; i < 20; i++) {
    producer.send(source.next(250));
    await producer.drained();
  }
  const kraken = '{exchange="kraken"}';
  await waitFor(
    async () => (await importer.metric(`tapewire_link_import_frames_acked_total${kraken}`)) === source.sent,
    `${source.sent} frames acknowledged by relay B`,
    20_000,
  );
  const ex = (name: string) => exporter.metric(`tapewire_link_export_${name}`);
  const im = (name: string) => importer.metric(`tapewire_link_import_${name}`);
  // Frames: published (PubAck) = delivered = acknowledged by the local relay = sent; messages likewise.
  expect(await ex(`frames_total${kraken}`)).toBe(source.sent);
  expect(await im(`frames_total${kraken}`)).toBe(source.sent);
  const messages = await ex(`messages_total${kraken}`);
  expect(messages).toBeGreaterThanOrEqual(source.sent / 100);
  expect(await im(`messages_total${kraken}`)).toBe(messages);
  await waitFor(async () => (await im(`acks_total${kraken}`)) === messages, "every message acknowledged");
  expect(await ex(`last_seq${kraken}`)).toBe(source.sent - 1);
  expect(await ex(`duplicate_messages_total${kraken}`)).toBe(0);
  expect(await ex("publishes_in_flight")).toBe(0);
  expect(await ex('publish_failures_total{reason="timeout"}')).toBe(0);
  expect(await ex("nats_connected")).toBe(1);
  expect(await ex("relay_connected")).toBe(1);
  expect(await im(`ack_pending${kraken}`)).toBe(0);
  expect(await im(`relay_connected${kraken}`)).toBe(1);
  expect(await im(`gaps_total${kraken}`)).toBe(0);
  expect(await im(`redelivered_messages_total${kraken}`)).toBe(0);
  expect(await im("nats_connected")).toBe(1);
  // The server's view of the durable consumer, polled: nothing left to deliver or to acknowledge.
  await waitFor(
    async () => (await im("consumer_pending_messages")) === 0 && (await im("consumer_ack_pending")) === 0,
    "the durable consumer caught up (server view)",
    15_000,
  );
  // Every process's process metrics too (the memory alerts).
  expect(await exporter.metric("tapewire_process_resident_memory_bytes")).toBeGreaterThan(0);

  for (const link of [exporter, importer]) {
    expect((await link.probe("/health")).status).toBe(200);
    const ready = await link.probe("/ready");
    const body = (await ready.json()) as { ready: boolean; checks: Record<string, unknown> };
    expect({
      status: ready.status,
      ready: body.ready,
      nats: body.checks.nats,
      relay: body.checks.relay,
    }).toEqual({
      status: 200,
      ready: true,
      nats: true,
      relay: true,
    });
  }

  // Relay B gone: the importer's relay connection is down, so it is not ready (and says why).
  await relayB.stop();
  await waitFor(
    async () => (await importer.probe("/ready")).status === 503,
    "importer not ready without its relay",
  );
  const body = (await (await importer.probe("/ready")).json()) as { checks: Record<string, unknown> };
  expect(body.checks).toMatchObject({ nats: true, relay: false });
}, 60_000);
