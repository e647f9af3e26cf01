// `bun trader/main.ts` (the Procfile's `trader`): makes sure the Python environment exists (first run: creates
// it, with pip's progress), then runs `python -m tapewire_trader` in it, passing signals on. With
// TAPEWIRE_TRADER=off, or no usable Python, it says so once and exits 0 so the rest of the stack runs.
import { join, resolve } from "node:path";
import { ensureTraderEnv } from "../scripts/trader-env.ts";

const root = resolve(import.meta.dir, "..");
const say = (line: string) => console.log(`[trader-env] ${line}`);

const env = await ensureTraderEnv({ say });
if (env.status === "off") {
  console.log("trader: off (TAPEWIRE_TRADER=off)");
  process.exit(0);
}
if (env.status === "no-python") {
  console.error(env.message);
  process.exit(0);
}

const child = Bun.spawn([env.python, "-m", "tapewire_trader", ...process.argv.slice(2)], {
  cwd: root,
  env: { ...process.env, PYTHONPATH: join(root, "trader"), PYTHONDONTWRITEBYTECODE: "1" },
  stdio: ["ignore", "inherit", "inherit"],
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
process.exit(await child.exited);
