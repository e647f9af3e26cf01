// The equity curve as chart points: lightweight-charts wants one value per strictly increasing time (whole
// seconds here), so the last point of each second stands for it. Display only: the API's exact decimal text
// becomes a number here and nowhere before.
export interface EquityPoint {
  readonly tsNs: string;
  readonly equity: string;
}

export interface ChartPoint {
  time: number;
  value: number;
}

export function equitySeries(points: readonly EquityPoint[]): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (const p of points) {
    const time = Number(BigInt(p.tsNs) / 1_000_000_000n);
    const value = Number(p.equity);
    const last = out.at(-1);
    if (last && last.time === time) last.value = value;
    else if (!last || time > last.time) out.push({ time, value });
  }
  return out;
}

/** A run's window for the form: the last `hours` hours up to the start of the current minute, RFC 3339. */
export function defaultWindow(now: number, hours = 1): { from: string; to: string } {
  const to = Math.floor(now / 60_000) * 60_000;
  return { from: new Date(to - hours * 3_600_000).toISOString(), to: new Date(to).toISOString() };
}
