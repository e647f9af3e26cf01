// Serves the built dashboard (ui/dist) at / with a single-page-app fallback to index.html. Paths are
// resolved inside the folder only; /api/* never falls back to the UI.
import { existsSync, statSync } from "node:fs";
import { join, normalize, sep } from "node:path";
import { Elysia } from "elysia";
import { NotFoundError } from "../errors.ts";

export function staticUi(dir: string) {
  const root = normalize(dir);
  const index = join(root, "index.html");
  if (!existsSync(index)) {
    return new Elysia().get("/", () => ({ name: "tapewire api", docs: "/openapi", api: "/api" }), {
      detail: { hide: true },
    });
  }
  return new Elysia().get(
    "/*",
    ({ path }) => {
      if (path === "/api" || path.startsWith("/api/")) throw new NotFoundError(`no route GET ${path}`);
      let file = normalize(join(root, safeDecode(path)));
      if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) file = index;
      return new Response(Bun.file(file));
    },
    { detail: { hide: true } },
  );
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return "/"; // malformed escapes get the app shell, like any unknown path
  }
}
