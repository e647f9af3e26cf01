import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  bool,
  bytes,
  ConfigError,
  custom,
  defineConfig,
  duration,
  ExpectedError,
  int,
  list,
  oneOf,
  port,
  registeredVariables,
  string,
  url,
} from "./config.ts";
import { renderConfigReference } from "./config-reference.ts";
import { formatBytes, parseBool, parseBytes, parseDuration, parseInteger } from "./config-vars.ts";

const collector = defineConfig("test-collector", {
  bufferFrames: int("TAPEWIRE_COLLECTOR_BUFFER_FRAMES", {
    default: 262144,
    min: 1,
    max: 1 << 24,
    meaning: "frames kept",
  }),
  metricsPort: port("TEST_METRICS_PORT", { default: 9201, off: true, meaning: "/metrics" }),
  record: bool("TEST_RECORD", { default: false, meaning: "record raw messages" }),
  wsUrl: url("TEST_WS_URL", { default: "wss://ws.kraken.com/v2", protocols: ["ws:", "wss:"], meaning: "ws" }),
  databaseUrl: url("DATABASE_URL", {
    default: undefined,
    protocols: ["postgres:", "postgresql:"],
    meaning: "db",
  }),
  source: oneOf("TEST_SOURCE", {
    values: ["sim", "live"] as const,
    default: "sim",
    meaning: "where data comes from",
  }),
  queueBytes: bytes("TEST_QUEUE_BYTES", { default: 8 << 20, min: 4096, max: 1 << 30, meaning: "queue" }),
  graceMs: duration("TEST_GRACE_MS", { default: 5000, unit: "ms", max: 600_000, meaning: "grace" }),
  ttlS: duration("TEST_TTL_S", { default: 900, unit: "s", min: 60, meaning: "ttl" }),
  origins: list("TEST_ORIGINS", {
    default: [],
    meaning: "origins",
    item: (s) => (/^https?:\/\//.test(s) ? undefined : "an origin"),
  }),
  host: string("TEST_HOST", { default: "127.0.0.1", meaning: "bind address" }),
  secret: string("TEST_SECRET", {
    default: undefined,
    secret: true,
    pattern: /^.{32,}$/,
    expected: "32+ characters",
    meaning: "key",
  }),
  fee: custom("TEST_FEE_BPS", {
    default: "0",
    expected: "a decimal like 2.5",
    meaning: "fee",
    parse: (raw) => {
      if (!/^\d{1,6}(\.\d{1,6})?$/.test(raw)) throw new ExpectedError("a decimal like 2.5");
      return raw;
    },
  }),
});

describe("defineConfig().read", () => {
  test("unset and empty variables take their defaults, typed and frozen", () => {
    const config = collector.read({ TEST_HOST: "" });
    expect(config).toEqual({
      bufferFrames: 262144,
      metricsPort: 9201,
      record: false,
      wsUrl: "wss://ws.kraken.com/v2",
      databaseUrl: undefined,
      source: "sim",
      queueBytes: 8 << 20,
      graceMs: 5000,
      ttlS: 900,
      origins: [],
      host: "127.0.0.1",
      secret: undefined,
      fee: "0",
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.origins)).toBe(true);
  });

  test("parses every type", () => {
    const config = collector.read({
      TAPEWIRE_COLLECTOR_BUFFER_FRAMES: "1_000",
      TEST_METRICS_PORT: "-1",
      TEST_RECORD: "yes",
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x",
      TEST_SOURCE: "live",
      TEST_QUEUE_BYTES: "16MiB",
      TEST_GRACE_MS: "2s",
      TEST_TTL_S: "15m",
      TEST_ORIGINS: " https://a.example , ,http://b.example:8443",
      TEST_FEE_BPS: "2.5",
    });
    expect(config.bufferFrames).toBe(1000);
    expect(config.metricsPort).toBe(-1);
    expect(config.record).toBe(true);
    expect(config.databaseUrl).toBe("postgres://postgres@127.0.0.1:5432/x");
    expect(config.source).toBe("live");
    expect(config.queueBytes).toBe(16 << 20);
    expect(config.graceMs).toBe(2000);
    expect(config.ttlS).toBe(900);
    expect(config.origins).toEqual(["https://a.example", "http://b.example:8443"]);
    expect(config.fee).toBe("2.5");
  });

  test("TAPEWIRE_COLLECTOR_BUFFER_FRAMES=abc is rejected naming the variable and what was expected", () => {
    expect(() => collector.read({ TAPEWIRE_COLLECTOR_BUFFER_FRAMES: "abc" })).toThrow(
      'TAPEWIRE_COLLECTOR_BUFFER_FRAMES="abc": expected an integer in 1..16777216',
    );
  });

  test("every bad variable is reported at once; a secret's value is never echoed", () => {
    let error: unknown;
    try {
      collector.read({
        TEST_METRICS_PORT: "65536",
        TEST_SOURCE: "paper",
        TEST_SECRET: "hunter2",
        TEST_ORIGINS: "ftp://x",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((i) => i.variable)).toEqual([
      "TEST_METRICS_PORT",
      "TEST_SOURCE",
      "TEST_ORIGINS",
      "TEST_SECRET",
    ]);
    expect(issues[1]?.expected).toBe("one of sim, live");
    expect((error as Error).message).not.toContain("hunter2");
    expect((error as Error).message).toContain('"ftp://x" is not an origin');
  });

  test.each([
    ["TAPEWIRE_COLLECTOR_BUFFER_FRAMES", "0"],
    ["TAPEWIRE_COLLECTOR_BUFFER_FRAMES", "12abc"],
    ["TAPEWIRE_COLLECTOR_BUFFER_FRAMES", "1.5"],
    ["TAPEWIRE_COLLECTOR_BUFFER_FRAMES", "1e3"],
    ["TEST_RECORD", "maybe"],
    ["TEST_WS_URL", "https://ws.kraken.com"],
    ["TEST_WS_URL", "not a url"],
    ["TEST_QUEUE_BYTES", "8MB"],
    ["TEST_QUEUE_BYTES", "1KiB"],
    ["TEST_GRACE_MS", "11m"],
    ["TEST_TTL_S", "1500ms"],
    ["TEST_TTL_S", "59"],
    ["TEST_FEE_BPS", "-1"],
  ])("%s=%s is rejected", (name, value) => {
    expect(() => collector.read({ [name]: value })).toThrow(`${name}="${value}": expected `);
  });

  test("a cross-field check reports its own issue", () => {
    const sampled = defineConfig(
      "test-sampled",
      { every: int("TEST_SAMPLE", { default: 64, min: 1, meaning: "sample 1 in N" }) },
      (c) =>
        (c.every & (c.every - 1)) === 0
          ? undefined
          : [{ variable: "TEST_SAMPLE", value: String(c.every), expected: "a power of two" }],
    );
    expect(sampled.read({}).every).toBe(64);
    expect(() => sampled.read({ TEST_SAMPLE: "48" })).toThrow('TEST_SAMPLE="48": expected a power of two');
  });

  test("readOrExit exits 78 with the message on stderr", () => {
    const child = Bun.spawnSync({
      cmd: [
        process.execPath,
        "-e",
        `import { defineConfig, int } from "${import.meta.dir}/config.ts";
        defineConfig("x", { n: int("TEST_N", { default: 1, meaning: "n" }) }).readOrExit({ TEST_N: "abc" });`,
      ],
    });
    expect(child.exitCode).toBe(78);
    expect(child.stderr.toString()).toContain('TEST_N="abc": expected an integer');
  });

  test("a declaration error is caught at definition: bad default, a name twice", () => {
    expect(() => int("TEST_BAD", { default: 0, min: 1, meaning: "x" })).toThrow(
      "TEST_BAD: the declared default",
    );
    const n = int("TEST_TWICE", { default: 1, meaning: "x" });
    expect(() => defineConfig("test-twice", { a: n, b: n })).toThrow("TEST_TWICE declared twice");
  });
});

describe("registry and reference", () => {
  test("every declared variable is registered with process, default and meaning", () => {
    const rows = registeredVariables().filter((v) => v.process === "test-collector");
    expect(rows.map((r) => r.name)).toEqual(
      Object.values(collector.vars)
        .map((v) => v.name)
        .sort((a, b) => a.localeCompare(b)),
    );
    const queue = rows.find((r) => r.name === "TEST_QUEUE_BYTES");
    expect(queue).toMatchObject({ key: "queueBytes", type: "bytes", defaultText: "8 MiB", meaning: "queue" });
    expect(rows.find((r) => r.name === "DATABASE_URL")?.defaultText).toBe("unset");
  });

  test("the reference has one row per variable under its process", () => {
    const md = renderConfigReference(registeredVariables().filter((v) => v.process === "test-collector"));
    expect(md).toContain("## test-collector");
    expect(md).toContain(
      "| `TAPEWIRE_COLLECTOR_BUFFER_FRAMES` | 262144 | frames kept | an integer in 1..16777216 |",
    );
    expect(md.split("\n").filter((l) => l.startsWith("| `")).length).toBe(Object.keys(collector.vars).length);
  });
});

describe("parsers (properties)", () => {
  test("parseInteger round-trips every safe integer and rejects non-integers", () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => parseInteger(String(n)) === n));
    fc.assert(
      fc.property(fc.string(), (s) => {
        fc.pre(!/^[+-]?\d+(?:_\d+)*$/.test(s));
        expect(() => parseInteger(s)).toThrow(ExpectedError);
      }),
    );
    fc.assert(
      fc.property(fc.double({ noInteger: true, noNaN: true }), (x) => {
        expect(() => parseInteger(String(x))).toThrow(ExpectedError);
      }),
    );
  });

  test("parseBytes: n<unit> is n × the binary unit; formatBytes output parses back", () => {
    const units = [
      ["", 1],
      ["KiB", 1024],
      ["MiB", 1 << 20],
      ["GiB", 1 << 30],
      ["k", 1024],
      ["m", 1 << 20],
    ] as const;
    fc.assert(
      fc.property(fc.nat(1 << 20), fc.constantFrom(...units), fc.boolean(), (n, [unit, size], space) => {
        expect(parseBytes(`${n}${space ? " " : ""}${unit}`)).toBe(n * size);
        expect(parseBytes(formatBytes(n * size))).toBe(n * size);
      }),
    );
    for (const bad of ["8MB", "1.5MiB", "-1", "MiB", "1 TiB"])
      expect(() => parseBytes(bad)).toThrow(ExpectedError);
  });

  test("parseDuration converts exactly or refuses", () => {
    const ms = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
    fc.assert(
      fc.property(
        fc.nat(1_000_000),
        fc.constantFrom("ms", "s", "m", "h", "d") as fc.Arbitrary<keyof typeof ms>,
        (n, unit) => {
          expect(parseDuration(`${n}${unit}`, "ms")).toBe(n * ms[unit]);
          const inSeconds = (n * ms[unit]) / 1000;
          if (Number.isInteger(inSeconds)) expect(parseDuration(`${n}${unit}`, "s")).toBe(inSeconds);
          else expect(() => parseDuration(`${n}${unit}`, "s")).toThrow(ExpectedError);
        },
      ),
    );
    expect(parseDuration("42", "s")).toBe(42);
    expect(parseDuration("250us", "us")).toBe(250);
    expect(parseDuration("250µs", "us")).toBe(250);
    expect(parseDuration("2ms", "us")).toBe(2000);
    expect(parseDuration("7d", "us")).toBe(604_800_000_000);
    expect(parseDuration("250", "us")).toBe(250);
    expect(parseDuration("3000us", "ms")).toBe(3);
    expect(() => parseDuration("1500us", "ms")).toThrow(ExpectedError);
  });

  test("parseBool accepts exactly the documented words, any case", () => {
    const words = ["1", "true", "yes", "on", "0", "false", "no", "off"];
    fc.assert(
      fc.property(fc.constantFrom(...words), fc.boolean(), (w, upper) => {
        expect(parseBool(upper ? w.toUpperCase() : w)).toBe(words.indexOf(w) < 4);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        fc.pre(!words.includes(s.trim().toLowerCase()));
        expect(() => parseBool(s)).toThrow(ExpectedError);
      }),
    );
  });
});
