/** @jsxImportSource solid-js */
// A backtest's equity curve (lightweight-charts' area series), drawn once per result: a finished run does not
// change. The points' count and last value are on the element for tests.
import { AreaSeries, createChart, type IChartApi, type UTCTimestamp } from "lightweight-charts";
import { onCleanup, onMount } from "solid-js";
import { type EquityPoint, equitySeries } from "./equity.ts";

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

export function EquityChart(props: { points: readonly EquityPoint[]; currency: string }) {
  let el!: HTMLDivElement;
  let chart: IChartApi | undefined;
  onMount(() => {
    chart = createChart(el, {
      autoSize: true,
      layout: { background: { color: "transparent" }, textColor: css("--muted"), attributionLogo: false },
      grid: { vertLines: { color: css("--grid") }, horzLines: { color: css("--grid") } },
      timeScale: { timeVisible: true, secondsVisible: true },
    });
    const area = chart.addSeries(AreaSeries, {
      lineColor: css("--up"),
      topColor: css("--up-soft"),
      bottomColor: "transparent",
      priceFormat: { type: "price", precision: 4, minMove: 0.0001 },
    });
    const data = equitySeries(props.points);
    area.setData(data.map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
    chart.timeScale().fitContent();
    el.dataset.points = String(data.length);
    el.dataset.last = props.points.at(-1)?.equity ?? "";
  });
  onCleanup(() => chart?.remove());
  return (
    <div
      class="chart equity"
      ref={el}
      data-testid="equity-chart"
      role="img"
      aria-label={`equity curve in ${props.currency}`}
    />
  );
}
