// The soak's memory plot: RSS of every process over time as an SVG line chart, converted to PNG with
// ImageMagick (`convert`) or rsvg-convert when one is installed (apt-get install -y librsvg2-bin); the SVG is
// always written beside it.
import { writeFileSync } from "node:fs";
import type { Sample } from "./soak-sample.ts";

const COLOURS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#17becf",
];
const W = 960;
const H = 540;
const M = { left: 70, right: 190, top: 40, bottom: 50 };

export function renderSvg(samples: readonly Sample[], title: string, warmupS: number): string {
  const jobs = [...new Set(samples.map((s) => s.job))];
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const yMax = niceCeil(Math.max(1, ...samples.map((s) => s.rssKb / 1024)));
  const x = (t: number) => M.left + (t / tMax) * (W - M.left - M.right);
  const y = (mb: number) => H - M.bottom - (mb / yMax) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - 90}" y="22" font-size="15">${escapeXml(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const mb = (yMax / 5) * i;
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(mb)}" y2="${y(mb)}" stroke="#ddd"/>`,
      `<text x="${M.left - 8}" y="${y(mb) + 4}" text-anchor="end">${Math.round(mb)}</text>`,
    );
    const t = (tMax / 5) * i;
    out.push(`<text x="${x(t)}" y="${H - M.bottom + 18}" text-anchor="middle">${(t / 60).toFixed(1)}</text>`);
  }
  out.push(
    `<text x="${(W - M.right + M.left) / 2}" y="${H - 12}" text-anchor="middle">minutes</text>`,
    `<text x="18" y="${H / 2}" transform="rotate(-90 18 ${H / 2})" text-anchor="middle">RSS (MB)</text>`,
    `<line x1="${x(warmupS)}" x2="${x(warmupS)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#999" stroke-dasharray="4 4"/>`,
    `<text x="${x(warmupS) + 4}" y="${M.top + 12}" fill="#666">warm-up ends</text>`,
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#333"/>`,
  );
  jobs.forEach((job, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts = samples
      .filter((s) => s.job === job)
      .map((s) => `${x(s.t).toFixed(1)},${y(s.rssKb / 1024).toFixed(1)}`)
      .join(" ");
    out.push(`<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    const ly = M.top + 10 + i * 20;
    out.push(
      `<line x1="${W - M.right + 15}" x2="${W - M.right + 40}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`,
      `<text x="${W - M.right + 46}" y="${ly + 4}">${escapeXml(job)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n");
}

/** Write `<base>.svg` and, where a converter exists, `<base>.png`; returns the PNG path or null. */
export function writePlot(base: string, svg: string): string | null {
  writeFileSync(`${base}.svg`, svg);
  const png = `${base}.png`;
  const tries: string[][] = [
    ["rsvg-convert", "-o", png, `${base}.svg`],
    ["convert", `${base}.svg`, png],
    ["magick", `${base}.svg`, png],
  ];
  for (const cmd of tries) {
    if (!Bun.which(cmd[0]!)) continue;
    if (Bun.spawnSync(cmd, { stdout: "ignore", stderr: "ignore" }).exitCode === 0) return png;
  }
  return null;
}

function niceCeil(v: number): number {
  const step = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / step) * step;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
