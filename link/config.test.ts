import { describe, expect, test } from "bun:test";
import { loadLinkConfig as linkConfigOf } from "./config.ts";

describe("link config", () => {
  test("TAPEWIRE_LINK_BATCH_AGE takes µs, ms or a bare number of µs; the default is 1 ms", () => {
    expect(linkConfigOf({}).batchUs).toBe(1000);
    expect(linkConfigOf({ TAPEWIRE_LINK_BATCH_AGE: "500us" }).batchUs).toBe(500);
    expect(linkConfigOf({ TAPEWIRE_LINK_BATCH_AGE: "250µs" }).batchUs).toBe(250);
    expect(linkConfigOf({ TAPEWIRE_LINK_BATCH_AGE: "2ms" }).batchUs).toBe(2000);
    expect(linkConfigOf({ TAPEWIRE_LINK_BATCH_AGE: "300" }).batchUs).toBe(300);
    expect(linkConfigOf({ TAPEWIRE_LINK_BATCH_AGE: "0" }).batchUs).toBe(0);
  });

  test("a bad batch age says what is expected", () => {
    expect(() => linkConfigOf({ TAPEWIRE_LINK_BATCH_AGE: "0.5ms" })).toThrow(
      /TAPEWIRE_LINK_BATCH_AGE.*500us|duration/,
    );
    expect(() => linkConfigOf({ TAPEWIRE_LINK_BATCH_AGE: "2s" })).toThrow(/0\.\.1000000 µs/);
  });
});
