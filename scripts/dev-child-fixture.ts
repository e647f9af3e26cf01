// A stand-in Procfile process for scripts/dev.test.ts: prints what the runner passed it, then waits for a signal.
// With "stubborn" as its argument it ignores SIGTERM (the runner must SIGKILL it).
const stubborn = process.argv[2] === "stubborn";
for (const name of ["DATABASE_URL", "KRAKEN_WS_URL", "BINANCE_REST_URL", "SIM_PORT"]) {
  console.log(`${name}=${process.env[name] ?? ""}`);
}
console.error("to stderr too");
process.on("SIGTERM", () => {
  console.log(stubborn ? "ignoring SIGTERM" : "got SIGTERM");
  if (!stubborn) process.exit(0);
});
console.log("ready");
setInterval(() => {}, 1 << 30);
