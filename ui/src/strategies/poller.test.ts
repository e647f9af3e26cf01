import { expect, test } from "bun:test";
import { waitFor } from "../../../lib/testing.ts";
import { makePoller } from "./poller.ts";

test("loads at once and again after each load, one at a time; errors reported; stop ends it", async () => {
  let calls = 0;
  let concurrent = 0;
  let maxConcurrent = 0;
  const seen: number[] = [];
  const errors: string[] = [];
  const poller = makePoller(
    async () => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      calls++;
      await Bun.sleep(5);
      concurrent--;
      if (calls === 2) throw new Error("down");
      return calls;
    },
    (v) => seen.push(v),
    (e) => errors.push((e as Error).message),
    10,
  );
  await poller.refresh(); // joins the load in flight instead of starting a second
  await waitFor(() => seen.length >= 3, "three loads");
  poller.stop();
  const after = calls;
  await Bun.sleep(40);
  expect(calls).toBe(after);
  expect(seen.slice(0, 2)).toEqual([1, 3]);
  expect(errors).toEqual(["down"]);
  expect(maxConcurrent).toBe(1);
});
