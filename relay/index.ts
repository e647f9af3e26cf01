// The relay package: consumer client, a small producer for tests and tools, filter types, and the server.
export { connectRelayConsumer, type RelayConsumer, type RelayConsumerOptions } from "./client.ts";
export { ConfigError, loadRelayConfig, type RelayConfig } from "./config.ts";
export {
  type ConsumerFilter,
  FilterError,
  type KindName,
  parseFilterLine,
  type ResumePosition,
} from "./filter.ts";
export { hopLatencyNs, stampRecv } from "./hop.ts";
export { connectRelayProducer, type RelayProducer, type RelayProducerOptions } from "./producer.ts";
export { type Relay, startRelay } from "./server.ts";
export { RelayStartError } from "./sockets.ts";
