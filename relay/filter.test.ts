import { describe, expect, test } from "bun:test";
import { EXCHANGE_IDS, Kind, Status } from "../schema/frame.ts";
import { compileFilter, FilterError, formatFilterLine, parseFilterLine, passes } from "./filter.ts";
import { frames } from "./testing.ts";

describe("filter lines", () => {
  test("round-trip a full line", () => {
    const line = formatFilterLine(
      { exchanges: ["kraken"], instruments: [1, 2], kinds: ["trade", "status"] },
      "bridge",
    );
    expect(line).toBe(
      '{"name":"bridge","exchanges":["kraken"],"instruments":[1,2],"kinds":["trade","status"]}\n',
    );
    expect(parseFilterLine(line.trim())).toEqual({
      name: "bridge",
      exchanges: ["kraken"],
      instruments: [1, 2],
      kinds: ["trade", "status"],
    });
  });

  test.each([
    ["not json", "not JSON"],
    ["[1]", "must be a JSON object"],
    ['{"exchanges":"kraken"}', "exchanges must be an array"],
    ['{"exchanges":["ftx"]}', 'unknown exchanges entry "ftx"'],
    ['{"kinds":["candle"]}', 'unknown kinds entry "candle"'],
    ['{"instruments":[70000]}', "bad instrument id 70000"],
    ['{"instruments":["1"]}', 'bad instrument id "1"'],
    ['{"venue":["x"]}', 'unknown filter field "venue"'],
    ['{"name":7}', "name must be a string"],
    ['{"from":[1]}', "from must be an object"],
    ['{"from":{"ftx":1}}', 'unknown from exchange "ftx"'],
    ['{"from":{"kraken":-1}}', "from.kraken must be an integer"],
    ['{"from":{"kraken":1.5}}', "from.kraken must be an integer"],
    ['{"from":{"kraken":9007199254740992}}', "from.kraken must be an integer"],
    ['{"fromTime":"12abc"}', "fromTime must be ns"],
    ['{"fromTime":"9223372036854775808"}', "fromTime must be ns"],
    ['{"fromTime":1.5}', "fromTime must be ns"],
  ])("rejects %s", (text, message) => {
    expect(() => parseFilterLine(text)).toThrow(FilterError);
    expect(() => parseFilterLine(text)).toThrow(message);
  });
});

test("a resume position: from per exchange and fromTime as exact text", () => {
  expect(
    parseFilterLine('{"from":{"kraken":0,"binance":4294967296},"fromTime":"1700000000000000001"}'),
  ).toEqual({
    from: { kraken: 0, binance: 4294967296 },
    fromTime: "1700000000000000001",
  });
  expect(parseFilterLine('{"fromTime":1700000000}').fromTime).toBe("1700000000");
});

describe("compiled filters", () => {
  const { kraken, coinbase } = EXCHANGE_IDS;
  const sample = frames([
    { exchange: kraken, kind: Kind.Trade, instrument: 1 },
    { exchange: kraken, kind: Kind.BookLevel, instrument: 2 },
    { exchange: coinbase, kind: Kind.Bbo, instrument: 2 },
    { exchange: coinbase, kind: Kind.Status, flags: Status.Disconnected << 4, instrument: 0 },
    { exchange: kraken, kind: Kind.Status, flags: Status.Stale << 4, instrument: 3 },
  ]);
  const pick = (f: Parameters<typeof compileFilter>[0]) => {
    const c = compileFilter(f);
    return [0, 1, 2, 3, 4].filter((i) => passes(c, sample, i * 48));
  };

  test("empty = everything", () => expect(pick({})).toEqual([0, 1, 2, 3, 4]));
  test("by exchange", () => expect(pick({ exchanges: ["coinbase"] })).toEqual([2, 3]));
  test("by kind", () => expect(pick({ kinds: ["book", "status"] })).toEqual([1, 3, 4]));
  test("by instrument; instrument-0 status passes", () =>
    expect(pick({ instruments: [2] })).toEqual([1, 2, 3]));
  test("all three", () =>
    expect(pick({ exchanges: ["kraken"], instruments: [3], kinds: ["status", "trade"] })).toEqual([4]));
});
