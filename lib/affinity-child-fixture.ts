// A child process for lib/affinity.test.ts: applies TAPEWIRE_CPUS_<argv[2]> as a main file would, starts a
// Worker (a thread born after pinning), then prints what the kernel and /metrics report as one JSON line.
import { applyAffinity, currentCpuList, threadCpuLists } from "./affinity.ts";
import { createLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";

const result = applyAffinity(process.argv[2] ?? "relay", createLogger({ process: "fixture" }));
const worker = new Worker(URL.createObjectURL(new Blob(["postMessage(1)"], { type: "text/javascript" })));
await new Promise((resolve) => worker.addEventListener("message", resolve, { once: true }));
const metric = new MetricsRegistry().render().match(/^tapewire_process_cpu_affinity\{.*$/m)?.[0] ?? null;
console.log(JSON.stringify({ result, status: currentCpuList(), threads: threadCpuLists(), metric }));
worker.terminate();
