import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Elysia } from "elysia";
import { IMMUTABLE, REVALIDATE, staticUi } from "./static-ui.ts";

const dir = mkdtempSync(join(tmpdir(), "tw-ui-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const app = new Elysia().use(staticUi(dir));
const get = (path: string) => app.handle(new Request(`http://local${path}`));

test("before a build: / says so as JSON, other paths are 404", async () => {
  const r = await get("/");
  expect(r.status).toBe(200);
  expect(((await r.json()) as { ui: string }).ui).toContain("bun run build");
  expect((await get("/markets")).status).toBe(404);
});

test("after a build (no restart): index at /, hashed assets immutable, SPA fallback, no escape, /api not swallowed", async () => {
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>ui</title>");
  writeFileSync(join(dir, "assets", "index-abc123.js"), "console.log(1)");
  writeFileSync(join(dir, "favicon.svg"), "<svg/>");

  const root = await get("/");
  expect(root.status).toBe(200);
  expect(root.headers.get("cache-control")).toBe(REVALIDATE);
  expect(await root.text()).toContain("<title>ui</title>");

  const js = await get("/assets/index-abc123.js");
  expect(js.status).toBe(200);
  expect(js.headers.get("cache-control")).toBe(IMMUTABLE);
  expect(js.headers.get("content-type")).toContain("javascript");

  expect((await get("/favicon.svg")).headers.get("cache-control")).toBe(REVALIDATE);

  const deep = await get("/portfolio?x=1");
  expect(deep.status).toBe(200);
  expect(deep.headers.get("content-type")).toContain("text/html");
  expect(await deep.text()).toContain("<title>ui</title>");

  expect((await get("/assets/gone-000.js")).status).toBe(404);
  expect(await (await get("/..%2F..%2Fetc%2Fpasswd")).text()).toContain("<title>ui</title>");
  expect((await get("/%E0%A4%A")).status).toBe(200);
  expect((await get("/api/nope")).status).toBe(404);
});
