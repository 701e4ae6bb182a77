import { ms } from './format.js';
import { html, type SafeHtml } from './html.js';

/** One bucket of the time-to-resolve chart: a week's median and p90, and how many runs. */
export interface ResolveBucket {
  readonly label: string;
  readonly count: number;
  readonly medianMs: number | null;
  readonly p90Ms: number | null;
}

/**
 * A small bar chart of time to resolve per bucket: the p90 as a pale bar, the median as a dark one
 * inside it. Drawn here as SVG, like the timeline; a table beside it carries the same numbers.
 */
export function resolveChart(buckets: readonly ResolveBucket[]): SafeHtml {
  const max = Math.max(1, ...buckets.map((b) => b.p90Ms ?? b.medianMs ?? 0));
  const width = 480;
  const height = 160;
  const bottom = 130;
  const left = 50;
  const slot = (width - left - 10) / Math.max(1, buckets.length);
  const y = (v: number) => bottom - (v / max) * (bottom - 12);
  const bars = buckets.map((b, i) => {
    const x = left + i * slot + slot * 0.15;
    const w = slot * 0.7;
    const p90 = b.p90Ms ?? 0;
    const median = b.medianMs ?? 0;
    return html`<g>
      <rect class="p90" x="${x.toFixed(1)}" y="${y(p90).toFixed(1)}" width="${w.toFixed(1)}" height="${(bottom - y(p90)).toFixed(1)}"
        ><title>${b.label}: p90 ${ms(b.p90Ms)}</title></rect
      >
      <rect
        class="median"
        x="${(x + w * 0.2).toFixed(1)}"
        y="${y(median).toFixed(1)}"
        width="${(w * 0.6).toFixed(1)}"
        height="${(bottom - y(median)).toFixed(1)}"
        ><title>${b.label}: median ${ms(b.medianMs)} over ${b.count} run(s)</title></rect
      >
      <text class="tick-label" x="${(x + w / 2).toFixed(1)}" y="${bottom + 14}" text-anchor="middle">${b.label}</text>
    </g>`;
  });
  return html`<figure class="chart">
    <svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title">
      <title id="chart-title">Time from action to the alert resolving, median and p90 per week</title>
      <line class="axis" x1="${left}" x2="${width - 10}" y1="${bottom}" y2="${bottom}" />
      <text class="tick-label" x="${left - 6}" y="16" text-anchor="end">${ms(max)}</text>
      <text class="tick-label" x="${left - 6}" y="${bottom}" text-anchor="end">0</text>
      ${bars}
    </svg>
    <figcaption>Dark: median; pale: p90. Live runs whose alert resolved after the action.</figcaption>
  </figure>`;
}
