import { expect, test } from "bun:test";
import { BufferPool } from "./buffer-pool.ts";

test("a given-back buffer is taken again: the smallest that fits, each once, within the limit", () => {
  const pool = new BufferPool(1024);
  const a = pool.take(100);
  const b = pool.take(300);
  expect(a.byteLength).toBe(128); // rounded up to 64 bytes
  expect(b.byteLength).toBe(320);
  pool.give([b, a]);
  expect(pool.bytes).toBe(448);
  expect(pool.take(120)).toBe(a);
  expect(pool.take(120)).toBe(b); // the only one left, larger than asked
  expect(pool.bytes).toBe(0);
  const big = pool.take(2000);
  pool.give([big]); // past the limit: dropped
  expect(pool.bytes).toBe(0);
  pool.give([new ArrayBuffer(100)]); // not a multiple of 64 bytes: typed arrays of 8 could not view it whole
  expect(pool.bytes).toBe(0);
});
