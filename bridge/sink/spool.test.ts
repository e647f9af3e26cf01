// The spool on a real file system: order, segment rotation, a torn last line after a crash, rejects.
import { afterAll, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spool } from "./spool.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), "tw-spool-unit-"));
  dirs.push(d);
  return d;
}

test("batches come back in order, per table, across segment rotation and a restart", async () => {
  const d = dir();
  const spool = new Spool(d, 64);
  await spool.init();
  const appends = [];
  for (let i = 1; i <= 10; i++)
    appends.push(spool.append({ table: "trades", rows: 2, data: bytes(`t${i}a\nt${i}b\n`) }));
  appends.push(spool.append({ table: "feed_events", rows: 1, data: bytes("e1\n") }));
  await Promise.all(appends);
  expect(spool.pendingBytes).toBe(0);
  expect(spool.files).toBeGreaterThan(2); // 64-byte segments rotate
  await spool.close();

  const again = new Spool(d, 64);
  await again.init();
  expect(again.bytes).toBe(spool.bytes);
  let trades = "";
  let events = "";
  let rows = 0;
  for (let seg = await again.oldest(); seg; seg = await again.oldest()) {
    const batch = await again.read(seg);
    rows += batch.rows;
    if (batch.table === "trades") trades += text(batch.data);
    else events += text(batch.data);
    await again.remove(seg);
  }
  expect(rows).toBe(21);
  expect(trades).toBe(Array.from({ length: 10 }, (_, i) => `t${i + 1}a\nt${i + 1}b\n`).join(""));
  expect(events).toBe("e1\n");
  expect(again.files).toBe(0);
  expect(again.bytes).toBe(0);
  expect(readdirSync(d).filter((n) => n.endsWith(".copy"))).toEqual([]);
});

test("a torn last line (a crash mid-append) is cut off at start-up; a rejected segment keeps its error", async () => {
  const d = dir();
  const spool = new Spool(d);
  await spool.init();
  await spool.append({ table: "trades", rows: 1, data: bytes("whole\n") });
  await spool.close();
  const [name] = readdirSync(d).filter((n) => n.endsWith(".copy"));
  appendFileSync(join(d, name!), "half a ro");

  const again = new Spool(d);
  await again.init();
  const seg = (await again.oldest())!;
  const batch = await again.read(seg);
  expect({ ...batch, data: text(batch.data) }).toEqual({ table: "trades", rows: 1, data: "whole\n" });
  await again.reject(seg, new Error("bad value"));
  expect(readFileSync(join(d, "rejected", `${name}.error.txt`), "utf8")).toBe("Error: bad value\n");
  expect(readFileSync(join(d, "rejected", name!), "utf8")).toBe("whole\n");
  expect(await again.oldest()).toBeUndefined();
});
