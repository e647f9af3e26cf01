/** @jsxImportSource solid-js */
// Candles + volume for one exchange. Drawn once per frame: a full setData after history loads, otherwise
// update() for the buckets that changed (lightweight-charts' own incremental path).
import {
  type CandlestickData,
  CandlestickSeries,
  createChart,
  type HistogramData,
  HistogramSeries,
  type IChartApi,
  type UTCTimestamp,
} from "lightweight-charts";
import { createEffect, onCleanup, onMount } from "solid-js";
import type { Candle } from "./candles.ts";
import type { ExchangeMarket, Market } from "./create-market.ts";

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

export function Chart(props: { market: Market; ex: ExchangeMarket; theme: string }) {
  let el!: HTMLDivElement;
  let chart: IChartApi | undefined;
  onMount(() => {
    const p = 10 ** props.market.inst.priceDecimals;
    const s = 10 ** props.market.inst.sizeDecimals;
    chart = createChart(el, {
      autoSize: true,
      layout: { background: { color: "transparent" }, textColor: css("--muted"), attributionLogo: false },
      grid: { vertLines: { color: css("--grid") }, horzLines: { color: css("--grid") } },
      timeScale: { timeVisible: true, secondsVisible: props.market.step < 60_000 },
      localization: { priceFormatter: (v: number) => v.toFixed(props.market.inst.priceDecimals) },
    });
    const candles = chart.addSeries(CandlestickSeries, {
      upColor: css("--up"),
      downColor: css("--down"),
      wickUpColor: css("--up"),
      wickDownColor: css("--down"),
      borderVisible: false,
    });
    const volume = chart.addSeries(HistogramSeries, { priceScaleId: "", priceFormat: { type: "volume" } });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.25 } });
    // Display only: exact mantissas become chart numbers here, never before.
    const bar = (c: Candle): CandlestickData => ({
      time: (c.start / 1000) as UTCTimestamp,
      open: c.open / p,
      high: c.high / p,
      low: c.low / p,
      close: c.close / p,
    });
    // Theme colours are read once per theme, not per bar (getComputedStyle forces a style recalculation).
    const colours = { up: css("--up-soft"), down: css("--down-soft") };
    const vol = (c: Candle): HistogramData => ({
      time: (c.start / 1000) as UTCTimestamp,
      value: Number(c.volume) / s,
      color: c.close >= c.open ? colours.up : colours.down,
    });
    let lastStart = 0;
    // The last few buckets as data attributes: what a test (or a curious user) can read off the canvas.
    const describe = () => {
      const all = props.ex.series.candles();
      el.dataset.bars = String(all.length);
      el.dataset.live = String(props.ex.series.live);
      el.dataset.recent = JSON.stringify(
        all
          .slice(-4)
          .map((c) => ({ start: c.start, trades: c.trades, volume: c.volume.toString(), close: c.close })),
      );
    };
    createEffect(() => {
      props.market.version();
      const { full, updated } = props.ex.series.takeChanges();
      if (full || updated.length) describe();
      if (full) {
        const all = props.ex.series.candles();
        candles.setData(all.map(bar));
        volume.setData(all.map(vol));
        lastStart = all.at(-1)?.start ?? 0;
        return;
      }
      for (const c of updated) {
        const old = c.start < lastStart;
        candles.update(bar(c), old);
        volume.update(vol(c), old);
        if (c.start > lastStart) lastStart = c.start;
      }
    });
    createEffect(() => {
      props.theme;
      colours.up = css("--up-soft");
      colours.down = css("--down-soft");
      candles.applyOptions({
        upColor: css("--up"),
        downColor: css("--down"),
        wickUpColor: css("--up"),
        wickDownColor: css("--down"),
      });
      chart?.applyOptions({
        layout: { textColor: css("--muted") },
        grid: { vertLines: { color: css("--grid") }, horzLines: { color: css("--grid") } },
      });
    });
  });
  onCleanup(() => chart?.remove());
  return (
    <div
      class="chart"
      ref={el}
      role="img"
      aria-label={`${props.ex.exchange} ${props.market.inst.symbol} candles, ${props.market.interval}`}
      data-testid={`chart-${props.ex.exchange}`}
    />
  );
}
