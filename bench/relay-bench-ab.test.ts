import { expect, test } from "bun:test";
import { parseVariants, setEnv } from "./relay-bench-ab.ts";
import { defaultWarmup } from "./relay-bench-ours.ts";
import { spawnHelper } from "./relay-bench-procs.ts";

test("a variant's environment reaches the processes the harness spawns during its runs, and is undone after", async () => {
  const [v] = parseVariants("nice:TAIL_AB_TEST_A=19,TAIL_AB_TEST_B=x");
  process.env.TAIL_AB_TEST_B = "before";
  delete process.env.TAIL_AB_TEST_A;
  const restore = setEnv(v!.env);
  expect([process.env.TAIL_AB_TEST_A, process.env.TAIL_AB_TEST_B]).toEqual(["19", "x"]);
  // spawnHelper starts every Bun end (and the relay's start-up passes process.env the same way).
  const child = spawnHelper(["sh", "-c", 'printf \'{"a":"%s"}\\n\' "$TAIL_AB_TEST_A"']);
  expect((await child.line((l) => "a" in l, "env line")).a).toBe("19");
  await child.kill();
  restore();
  expect("TAIL_AB_TEST_A" in process.env).toBe(false);
  expect(process.env.TAIL_AB_TEST_B).toBe("before");
  delete process.env.TAIL_AB_TEST_B;
});

test("BENCH_WARMUP_S sets the warm-up's length at the paced rate; unset it is 2 s", () => {
  const restore = setEnv({ BENCH_WARMUP_S: "4" });
  try {
    expect(defaultWarmup(10_000)).toBe(40_000);
  } finally {
    restore();
  }
  const before = process.env.BENCH_WARMUP_S;
  delete process.env.BENCH_WARMUP_S;
  expect(defaultWarmup(10_000)).toBe(20_000);
  expect(defaultWarmup(100)).toBe(1000);
  const bad = setEnv({ BENCH_WARMUP_S: "soon" });
  expect(() => defaultWarmup(10_000)).toThrow(/BENCH_WARMUP_S=soon/);
  bad();
  if (before !== undefined) process.env.BENCH_WARMUP_S = before;
});
