import { expect, test } from "bun:test";
import { createLogger, describeError } from "./log.ts";

test("an error's cause chain and driver fields are kept (a 500's log says what Postgres said)", () => {
  const pg = Object.assign(new Error('date/time field value out of range: "2025-02-30"'), {
    name: "PostgresError",
    code: "22008",
    severity: "ERROR",
    query: "SELECT $1::timestamptz", // not a kept field: the SQL text is already in the wrapper's message
  });
  const wrapped = new Error("Failed query: SELECT $1::timestamptz", { cause: pg });
  const lines: string[] = [];
  createLogger({ svc: "t" }, (l) => lines.push(l)).error("request failed", { error: wrapped });
  const logged = JSON.parse(lines[0]!);
  expect(logged.error).toEqual({
    name: "Error",
    message: "Failed query: SELECT $1::timestamptz",
    cause: {
      name: "PostgresError",
      message: 'date/time field value out of range: "2025-02-30"',
      code: "22008",
      severity: "ERROR",
    },
  });
});

test("a cause loop is cut; a non-Error cause is text", () => {
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  (a as { cause?: unknown }).cause = b;
  let depth = 0;
  for (let e: unknown = describeError(a); e && typeof e === "object"; e = (e as { cause?: unknown }).cause)
    depth++;
  expect(depth).toBeLessThanOrEqual(6);
  expect(describeError(new Error("x", { cause: "disk full" })).cause).toBe("disk full");
});
