// `bun run replay`: play a range of the relay journal (the capture format) through a relay to any consumer,
// at the recorded pace, N× it, or as fast as the consumers take it (relay/README.md, "Replay").
//
//   bun run replay --journal .data/journal --out run/replay-out.sock --speed 2x \
//     [--from kraken=1200 --to kraken=5000] [--from-time 2026-12-01T10:00:00Z --to-time …] \
//     [--exchanges kraken,binance] [--instruments BTC-USD,3] [--consumers 1] [--max-pause 5s]
//   bun run replay --into run/relay-in.sock …   # feed a running relay's ingest socket instead
import { parseArgs } from "node:util";
import { parseDuration } from "../lib/config-vars.ts";
import { createLogger } from "../lib/log.ts";
import { EXCHANGE_IDS, FRAME_SIZE, isExchangeName } from "../schema/frame.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { type JournalRange, JournalRangeError, JournalReader } from "./journal/reader.ts";
import { type PlaybackTarget, parseSpeed, play } from "./playback.ts";
import { IngestReplay } from "./playback-ingest.ts";
import { ReplayServer } from "./playback-serve.ts";

/** Frames read from the journal per step (256 KiB): large writes, few event-loop turns per second. */
const REPLAY_CHUNK_FRAMES = 5461;

export class ReplayArgsError extends Error {}

export interface ReplayArgs {
  journal: string;
  range: JournalRange;
  speed: number;
  maxPauseMs: number | undefined;
  /** Serve consumers here (a replay relay) … */
  out: string | undefined;
  /** … or feed a running relay's ingest socket. */
  into: string | undefined;
  consumers: number;
  queueBytes: number | undefined;
}

const OPTIONS = {
  journal: { type: "string" },
  from: { type: "string", multiple: true },
  to: { type: "string", multiple: true },
  "from-time": { type: "string" },
  "to-time": { type: "string" },
  exchanges: { type: "string" },
  instruments: { type: "string" },
  speed: { type: "string", default: "recorded" },
  "max-pause": { type: "string" },
  out: { type: "string" },
  into: { type: "string" },
  consumers: { type: "string", default: "1" },
  "queue-bytes": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export const USAGE = `bun run replay [--journal DIR] (--out SOCKET | --into SOCKET) [--speed recorded|max|Nx]
  [--from EXCHANGE=SEQ]... [--to EXCHANGE=SEQ]... [--from-time T] [--to-time T]
  [--exchanges kraken,coinbase,binance] [--instruments SYMBOL|ID,...] [--consumers N] [--max-pause 5s]
  [--queue-bytes BYTES]
--out: a replay relay on SOCKET; it waits for N consumers (--consumers, default 1), sends them the range byte
  for byte (journal seqs kept), waits for the slowest, and exits when all is delivered.
--into: a running relay's ingest socket (TAPEWIRE_RELAY_IN); that relay re-sequences and journals the frames.
Seq bounds are journal seqs, [from, to); times are RFC 3339 or ns since the epoch, [from, to) on tsRecv.`;

/** Parse the command line; throws ReplayArgsError naming what is wrong. */
export function parseReplayArgs(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): ReplayArgs {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (error) {
    throw new ReplayArgsError(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) throw new ReplayArgsError(USAGE);
  if ((values.out === undefined) === (values.into === undefined))
    throw new ReplayArgsError(
      `give exactly one of --out SOCKET (serve consumers) or --into SOCKET (a relay's ingest)\n${USAGE}`,
    );
  const seqs = (list: string[] | undefined, flag: string) => {
    const out: Record<number, number> = {};
    for (const item of list ?? []) {
      const m = /^([a-z]+)=(\d{1,16})$/.exec(item);
      if (!m || !isExchangeName(m[1]))
        throw new ReplayArgsError(`${flag} ${JSON.stringify(item)}: expected EXCHANGE=SEQ, e.g. kraken=1200`);
      out[EXCHANGE_IDS[m[1]]] = Number(m[2]);
    }
    return out;
  };
  const exchanges = (values.exchanges ?? "")
    .split(",")
    .filter((s) => s !== "")
    .map((name) => {
      if (!isExchangeName(name))
        throw new ReplayArgsError(
          `--exchanges: unknown exchange ${JSON.stringify(name)} (kraken, coinbase, binance)`,
        );
      return EXCHANGE_IDS[name];
    });
  const registry = values.instruments ? loadRegistry(env) : null;
  const instruments = (values.instruments ?? "")
    .split(",")
    .filter((s) => s !== "")
    .map((item) => {
      const id = /^\d{1,5}$/.test(item) ? Number(item) : registry!.bySymbol(item)?.id;
      if (id === undefined || id > 65535)
        throw new ReplayArgsError(`--instruments: ${JSON.stringify(item)} is no instrument symbol or id`);
      return id;
    });
  const range: JournalRange = {
    exchanges,
    instruments,
    fromSeq: seqs(values.from, "--from"),
    toSeq: seqs(values.to, "--to"),
    fromNs: values["from-time"] === undefined ? undefined : parseTimeNs(values["from-time"], "--from-time"),
    toNs: values["to-time"] === undefined ? undefined : parseTimeNs(values["to-time"], "--to-time"),
  };
  if (range.fromNs !== undefined && range.toNs !== undefined && range.fromNs >= range.toNs)
    throw new ReplayArgsError("--from-time must be before --to-time");
  let speed: number;
  try {
    speed = parseSpeed(values.speed);
  } catch (error) {
    throw new ReplayArgsError(`--speed: ${(error as Error).message}`);
  }
  const consumers = Number(values.consumers);
  if (!Number.isInteger(consumers) || consumers < 0 || consumers > 1000)
    throw new ReplayArgsError(`--consumers ${JSON.stringify(values.consumers)}: expected an integer 0..1000`);
  const queueBytes = values["queue-bytes"] === undefined ? undefined : Number(values["queue-bytes"]);
  if (queueBytes !== undefined && !(Number.isInteger(queueBytes) && queueBytes >= 4096))
    throw new ReplayArgsError("--queue-bytes: expected an integer ≥ 4096");
  let maxPauseMs: number | undefined;
  if (values["max-pause"] !== undefined) {
    try {
      maxPauseMs = parseDuration(values["max-pause"], "ms", "a duration like 500ms or 5s");
    } catch {
      throw new ReplayArgsError(
        `--max-pause ${JSON.stringify(values["max-pause"])}: expected a duration like 500ms or 5s`,
      );
    }
  }
  return {
    journal: values.journal ?? env.TAPEWIRE_JOURNAL_DIR ?? ".data/journal",
    range,
    speed,
    maxPauseMs,
    out: values.out,
    into: values.into,
    consumers,
    queueBytes,
  };
}

/** RFC 3339 with up to 9 fraction digits, or an integer of ns since the epoch. */
export function parseTimeNs(text: string, flag: string): number {
  if (/^\d{1,19}$/.test(text)) return Number(text);
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : Number.NaN;
  if (!m || Number.isNaN(ms))
    throw new ReplayArgsError(
      `${flag} ${JSON.stringify(text)}: expected RFC 3339 (2026-12-01T10:00:00.5Z) or ns since the epoch`,
    );
  return ms * 1e6 + Number((m[2] ?? "").padEnd(9, "0"));
}

async function main(): Promise<number> {
  const log = createLogger({ service: "replay" });
  let args: ReplayArgs;
  try {
    args = parseReplayArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof ReplayArgsError)) throw error;
    console.error(error.message);
    return error.message === USAGE ? 0 : 2; // --help
  }
  let reader: JournalReader;
  try {
    reader = new JournalReader(args.journal);
  } catch (error) {
    if (!(error instanceof JournalRangeError)) throw error;
    log.error("bad journal", { error: error.message });
    return 2;
  }
  let target: PlaybackTarget;
  let server: ReplayServer | null = null;
  if (args.out !== undefined) {
    server = await new ReplayServer({ path: args.out, queueBytes: args.queueBytes, log }).listen();
    target = server;
    log.info("replay listening", { out: args.out, waitingFor: args.consumers });
    const stop = () => {
      server?.stop();
      process.exit(130);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    await server.waitForConsumers(args.consumers);
  } else {
    target = new IngestReplay({ path: args.into!, log });
  }
  log.info("replay starting", {
    journal: args.journal,
    positions: [reader.startPos, reader.endPos],
    speed: Number.isFinite(args.speed) ? args.speed : "max",
  });
  let result: Awaited<ReturnType<typeof play>>;
  try {
    result = await play(reader.frames(args.range, new Uint8Array(REPLAY_CHUNK_FRAMES * FRAME_SIZE)), target, {
      speed: args.speed,
      maxPauseMs: args.maxPauseMs,
    });
  } catch (error) {
    // A segment deleted under the reader, or the relay behind --into gone: say so, exit non-zero.
    log.error("replay failed", { error: error as Error });
    server?.stop();
    return 1;
  }
  log.info("replay finished", {
    frames: result.frames,
    recordedSpanMs: (result.lastTsNs - result.firstTsNs) / 1e6,
    elapsedMs: Math.round(result.elapsedMs * 10) / 10,
    speed: Number.isFinite(args.speed) ? args.speed : "max",
  });
  return 0;
}

if (import.meta.main) process.exit(await main());
