// COPY … TO STDOUT into a file. The stream is drained in flowing mode with synchronous writes: with
// pipeline()'s backpressure, postgres.js under Bun leaves the socket paused after a large COPY and the
// transaction's next statement (COMMIT) never completes (archiver.test.ts "a large partition" covers it).
// `durable: false` leaves out the fsync, for a file read back and deleted by this process (the analytics' live
// rows): nothing needs it on disk, and fsync made a request wait for the disk.
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import type postgres from "postgres";

export async function copyToFile(
  tx: postgres.Sql | postgres.TransactionSql,
  statement: string,
  path: string,
  options: { durable?: boolean } = {},
): Promise<number> {
  const stream = await tx.unsafe(statement).readable();
  const fd = openSync(path, "w");
  let bytes = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (chunk: Buffer) => {
        bytes += writeSync(fd, chunk);
      });
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    if (options.durable !== false) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return bytes;
}
