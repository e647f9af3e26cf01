// Session revocation for long-lived WebSockets (lib/sessions.ts): one Redis connection for the connect-time
// check (GET of the revocation key) and one in subscriber mode on SESSION_REVOKED_CHANNEL, whose messages
// (a sid) close every connection of that session at once. After a reconnect of the subscriber, messages
// published while it was away are lost, so every connected session is checked again by key.
import { Redis } from "ioredis";
import type { Logger } from "../lib/log.ts";
import { isSessionRevoked, SESSION_REVOKED_CHANNEL, type SessionRedis } from "../lib/sessions.ts";

export interface RevocationWatch {
  /** For the connect-time check. */
  readonly redis: SessionRedis;
  /** True while both connections are up and the channel is subscribed (part of /ready). */
  readonly ready: boolean;
  close(): Promise<void>;
}

export interface RevocationDeps {
  url: string;
  log: Logger;
  /** Close every connection of this session. */
  onRevoked(sid: string): void;
  /** The sessions with an open connection (re-checked after the subscriber reconnects). */
  sessions(): Iterable<string>;
}

const OPTIONS = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  commandTimeout: 1000,
  retryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
} as const;

export function watchRevocations(deps: RevocationDeps): RevocationWatch {
  const { log } = deps;
  const commands = new Redis(deps.url, OPTIONS);
  // The subscriber must queue its SUBSCRIBE until connected, and resubscribe by itself after a reconnect.
  const subscriber = new Redis(deps.url, { ...OPTIONS, enableOfflineQueue: true, autoResubscribe: true });
  let subscribed = false;
  let everSubscribed = false;
  for (const [name, c] of [
    ["commands", commands],
    ["subscriber", subscriber],
  ] as const) {
    c.on("error", (error: Error) =>
      log.limited("warn", `redis-${name}`, "redis connection error (session revocation)", { error }, 10_000),
    );
  }
  subscriber.on("end", () => {
    subscribed = false;
  });
  subscriber.on("close", () => {
    subscribed = false;
  });
  subscriber.on("message", (channel: string, sid: string) => {
    if (channel === SESSION_REVOKED_CHANNEL && sid !== "") deps.onRevoked(sid);
  });
  const recheck = async () => {
    for (const sid of [...deps.sessions()]) {
      try {
        if (await isSessionRevoked(commands, sid)) deps.onRevoked(sid);
      } catch (error) {
        log.limited("warn", "session-recheck", "session re-check failed", { error });
      }
    }
  };
  subscriber.on("ready", () => {
    // ioredis resubscribes on its own after the first time; ready fires before that, so subscribe is idempotent.
    subscriber.subscribe(SESSION_REVOKED_CHANNEL).then(
      () => {
        subscribed = true;
        if (everSubscribed) void recheck();
        everSubscribed = true;
        log.info("watching session revocations", { channel: SESSION_REVOKED_CHANNEL });
      },
      (error: Error) => log.warn("cannot subscribe to session revocations", { error }),
    );
  });
  return {
    redis: commands,
    get ready() {
      return subscribed && commands.status === "ready";
    },
    async close() {
      subscriber.disconnect();
      commands.disconnect();
    },
  };
}
