// Relay settings, read once from the environment into a frozen object; a bad value fails at start-up naming
// the variable.

export interface RelayConfig {
  /** Collectors connect here (TAPEWIRE_RELAY_IN). */
  readonly inPath: string;
  /** Consumers connect here (TAPEWIRE_RELAY_OUT). */
  readonly outPath: string;
  /** Per-consumer queue bound in bytes (TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES). */
  readonly consumerQueueBytes: number;
  /** How long a cut slow consumer may take to read its final SlowConsumer frame (TAPEWIRE_RELAY_SLOW_GRACE_MS). */
  readonly slowGraceMs: number;
  /** /metrics port (RELAY_METRICS_PORT); 0 picks a free one, -1 disables. */
  readonly metricsPort: number;
  /** Sample hop latency on 1 in this many frames (TAPEWIRE_RELAY_LATENCY_SAMPLE, a power of two). */
  readonly latencySampleEvery: number;
  /**
   * Kernel send buffer (SO_SNDBUF) for a consumer whose large writes come back partial
   * (TAPEWIRE_RELAY_SOCKET_BUFFER_BYTES); 0 = always the OS default.
   */
  readonly socketBufferBytes: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function int(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
) {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected an integer in ${min}..${max}`);
  }
  return value;
}

export function loadRelayConfig(env: Record<string, string | undefined> = process.env): RelayConfig {
  const sample = int(env, "TAPEWIRE_RELAY_LATENCY_SAMPLE", 64, 1, 1 << 20);
  if ((sample & (sample - 1)) !== 0) {
    throw new ConfigError(`TAPEWIRE_RELAY_LATENCY_SAMPLE=${sample}: expected a power of two`);
  }
  return Object.freeze({
    inPath: env.TAPEWIRE_RELAY_IN || "run/relay-in.sock",
    outPath: env.TAPEWIRE_RELAY_OUT || "run/relay-out.sock",
    consumerQueueBytes: int(env, "TAPEWIRE_RELAY_CONSUMER_QUEUE_BYTES", 8 << 20, 4096, 1 << 30),
    slowGraceMs: int(env, "TAPEWIRE_RELAY_SLOW_GRACE_MS", 5000, 0, 600_000),
    metricsPort: int(env, "RELAY_METRICS_PORT", 9300, -1, 65535),
    latencySampleEvery: sample,
    socketBufferBytes: int(env, "TAPEWIRE_RELAY_SOCKET_BUFFER_BYTES", 4 << 20, 0, 1 << 30),
  });
}
