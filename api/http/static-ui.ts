// Serves the built dashboard (ui/dist) at / with a single-page-app fallback to index.html. Paths are
// resolved inside the folder only; /api/* never falls back to the UI. The folder is looked at per request,
// so `bun run dev` can rebuild it under a running API. Caching: Vite's hashed files under /assets/ never
// change (a year, immutable); index.html and unhashed files are revalidated every time (no-cache), so a new
// build is picked up at once. A missing /assets/ file is a 404, not the app shell (a stale page must not get
// HTML for its script).
import { existsSync, statSync } from "node:fs";
import { join, normalize, sep } from "node:path";
import { Elysia } from "elysia";
import { NotFoundError } from "../errors.ts";

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const REVALIDATE = "no-cache";

export function staticUi(dir: string) {
  const root = normalize(dir);
  const index = join(root, "index.html");
  return new Elysia().get(
    "/*",
    ({ path }) => {
      if (path === "/api" || path.startsWith("/api/")) throw new NotFoundError(`no route GET ${path}`);
      if (!existsSync(index)) {
        if (path === "/")
          return { name: "tapewire api", docs: "/openapi", api: "/api", ui: "not built (bun run build)" };
        throw new NotFoundError(`no route GET ${path}`);
      }
      const file = normalize(join(root, safeDecode(path)));
      const inside = file.startsWith(root + sep);
      if (inside && existsSync(file) && statSync(file).isFile()) {
        const hashed = path.startsWith("/assets/");
        return new Response(Bun.file(file), {
          headers: { "cache-control": hashed ? IMMUTABLE : REVALIDATE },
        });
      }
      if (path.startsWith("/assets/")) throw new NotFoundError(`no file ${path}`);
      return new Response(Bun.file(index), {
        headers: { "cache-control": REVALIDATE, "content-type": "text/html;charset=utf-8" },
      });
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
