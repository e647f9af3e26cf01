// Engine times (ns since the epoch) and stored instants as the API writes them: RFC 3339 UTC with microseconds.

const pad = (n: number, w: number) => String(n).padStart(w, "0");

/** A Date as RFC 3339 UTC with 6 fractional digits. */
export function instant(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** ns since the epoch as { time: RFC 3339 with µs (truncated), tsNs: the exact ns as a string }. */
export function nsInstant(ns: bigint): { time: string; tsNs: string } {
  const ms = ns / 1_000_000n;
  const us = Number((ns / 1000n) % 1000n);
  const base = new Date(Number(ms)).toISOString().slice(0, -1);
  return { time: `${base}${pad(us, 3)}Z`, tsNs: ns.toString() };
}
