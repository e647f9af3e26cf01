// --record FILE: every raw exchange message with its host receive time, one JSON object per line:
// {"ts":"<ns since epoch>","msg":"<the message text>"}. The replay source reads the same format.
import { appendFileSync, closeSync, openSync, writeSync } from "node:fs";
import { nowNs } from "../../schema/clock.ts";

export class Recorder {
  private readonly fd: number;
  private buffer: string[] = [];
  private timer: ReturnType<typeof setInterval>;

  constructor(readonly path: string) {
    appendFileSync(path, "");
    this.fd = openSync(path, "a");
    // Buffered and flushed a few times a second: recording must not add a syscall per message.
    this.timer = setInterval(() => this.flush(), 200);
  }

  write(text: string): void {
    this.buffer.push(`{"ts":"${BigInt(Math.round(nowNs()))}","msg":${JSON.stringify(text)}}\n`);
    if (this.buffer.length >= 1000) this.flush();
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join(""));
    this.buffer = [];
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    closeSync(this.fd);
  }
}

export interface RecordedMessage {
  /** Host receive time, ns since the epoch, as recorded. */
  ts: bigint;
  msg: string;
}

/** Read a recording; lines that are not valid records are reported, not fatal. */
export async function* readRecording(
  path: string,
): AsyncGenerator<RecordedMessage | { error: string; line: number }> {
  const text = await Bun.file(path).text();
  let lineNo = 0;
  for (const line of text.split("\n")) {
    lineNo++;
    if (line.trim() === "") continue;
    try {
      const parsed = JSON.parse(line) as { ts?: unknown; msg?: unknown };
      if (typeof parsed.msg !== "string") throw new Error("no msg string");
      yield { ts: BigInt(String(parsed.ts ?? 0)), msg: parsed.msg };
    } catch (error) {
      yield { error: (error as Error).message, line: lineNo };
    }
  }
}
