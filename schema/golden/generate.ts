// `bun run golden`: write schema/golden/frames.json from the codec (see README.md beside it), formatted the way
// `biome check` wants it so the repository's lint stays clean.
import { join } from "node:path";
import { goldenFile } from "./vectors.ts";

const path = join(import.meta.dir, "frames.json");
await Bun.write(path, goldenFile());
const biome = Bun.spawnSync(["bun", "x", "biome", "format", "--write", path], {
  stdout: "ignore",
  stderr: "inherit",
});
if (biome.exitCode !== 0) throw new Error(`biome format failed on ${path}`);
console.log(`wrote ${path}`);
