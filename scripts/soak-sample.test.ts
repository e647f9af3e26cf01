import { expect, test } from "bun:test";
import fc from "fast-check";
import { type Sample, sampleProcess, slope, verdicts } from "./soak-sample.ts";

const limits = { warmupS: 60, slopeMbPer10Min: 1, fdSlack: 2 };
const series = (job: string, rssKb: (t: number) => number, fds: (t: number) => number = () => 10): Sample[] =>
  Array.from({ length: 31 }, (_, i) => ({
    t: i * 10,
    job,
    rssKb: rssKb(i * 10),
    fds: fds(i * 10),
    sockets: 4,
  }));

test("slope is the least-squares line's, whatever the offset", () => {
  fc.assert(
    fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 1e6 }), (a, b) => {
      const pts = Array.from({ length: 20 }, (_, x) => ({ x, y: a * x + b }));
      expect(slope(pts)).toBeCloseTo(a, 6);
    }),
  );
  expect(slope([{ x: 1, y: 5 }])).toBe(0);
});

test("warm-up growth is forgiven, growth after it is not", () => {
  // 10 MB in the first minute, then flat: passes. 2 MB per 10 min after warm-up: fails.
  const flat = series("relay", (t) => 50_000 + Math.min(t, 60) * 170);
  const leaky = series("bridge", (t) => 50_000 + (t * 2048) / 600);
  const [a, b] = verdicts([...flat, ...leaky], limits);
  expect(a).toMatchObject({ job: "relay", ok: true, rssSlopeMbPer10Min: 0 });
  expect(b!.ok).toBe(false);
  expect(b!.rssSlopeMbPer10Min).toBeCloseTo(2, 1);
  expect(b!.problems).toEqual(["RSS grows 2 MB/10 min (limit 1)"]);
});

test("descriptors that climb are a leak; one reconnect in flight at a sample is not", () => {
  const blip = series(
    "kraken",
    () => 50_000,
    (t) => (t === 150 ? 14 : 10),
  );
  const leak = series(
    "api",
    () => 50_000,
    (t) => 10 + Math.floor(t / 30),
  );
  const [a, b] = verdicts([...blip, ...leak], limits);
  expect(a!.ok).toBe(true);
  expect(b!.problems).toEqual(["descriptors 12 → 19"]);
});

test("an unchecked job's growth is reported but does not fail", () => {
  const [v] = verdicts(
    series("sim", (t) => 50_000 + t * 10),
    { ...limits, rssUnchecked: ["sim"] },
  );
  expect(v!.ok).toBe(true);
  expect(v!.rssSlopeMbPer10Min).toBeGreaterThan(5);
});

test.if(process.platform === "linux")("this process samples as itself", () => {
  const s = sampleProcess(process.pid)!;
  expect(s.rssKb * 1024).toBeGreaterThan(process.memoryUsage.rss() / 2);
  expect(s.fds).toBeGreaterThanOrEqual(3);
  expect(sampleProcess(2 ** 22 + 7)).toBeNull();
});
