import type { RunDetail, RunStep } from '../../domain/run.js';
import { ms, utcText } from './format.js';
import { html, type SafeHtml } from './html.js';

/**
 * The timeline picture of a run: one bar per step on a shared time axis, from the run's creation
 * to its end (or now), with its approval holds shaded behind. Drawn here as SVG, styled by the
 * stylesheet's classes (no style attributes: the CSP has no 'unsafe-inline'), with a title per
 * bar for the exact times and a text table beside it for screen readers.
 */
export function timeline(run: RunDetail, now: Date): SafeHtml {
  const started = run.steps.filter((s) => s.startedAt !== null);
  if (started.length === 0) return html`<p class="empty">No step has started yet.</p>`;
  const t0 = Date.parse(run.createdAt);
  const ends = [
    ...started.map((s) => Date.parse(s.finishedAt ?? now.toISOString())),
    ...run.approvals.map((a) => Date.parse(a.decidedAt ?? now.toISOString())),
    Date.parse(run.finishedAt ?? now.toISOString()),
  ];
  const t1 = Math.max(t0 + 1000, ...ends);
  const width = 720;
  const left = 150;
  const row = 26;
  const top = 24;
  const plot = width - left - 12;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * plot;
  const height = top + started.length * row + 20;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ at: left + f * plot, label: `+${ms(f * (t1 - t0))}` }));
  const holds = run.approvals.map((a) => {
    const from = x(Date.parse(a.requestedAt));
    const to = x(Date.parse(a.decidedAt ?? now.toISOString()));
    return html`<rect class="hold" x="${from.toFixed(1)}" y="${top - 6}" width="${Math.max(2, to - from).toFixed(1)}" height="${height - top - 8}">
      <title>approval request #${a.seq}: ${utcText(a.requestedAt)} → ${a.decidedAt ? `${a.decision ?? ''} ${utcText(a.decidedAt)}` : 'waiting'}</title>
    </rect>`;
  });
  const bars = started.map((s: RunStep, i) => {
    const from = x(Date.parse(s.startedAt as string));
    const to = x(Date.parse(s.finishedAt ?? now.toISOString()));
    const y = top + i * row;
    const label = s.phase === 'onFailure' ? `onFailure: ${s.name}` : s.name;
    return html`<g class="step step-${s.state}">
      <text class="label" x="${left - 8}" y="${y + 15}" text-anchor="end">${label.length > 22 ? `${label.slice(0, 21)}…` : label}</text>
      <rect class="bar" x="${from.toFixed(1)}" y="${y + 3}" width="${Math.max(3, to - from).toFixed(1)}" height="${row - 8}" rx="3">
        <title>
          ${label}: ${s.state}, ${utcText(s.startedAt as string)} → ${s.finishedAt ? utcText(s.finishedAt) : 'still running'}
          (${ms(Date.parse(s.finishedAt ?? now.toISOString()) - Date.parse(s.startedAt as string))})
        </title>
      </rect>
    </g>`;
  });
  return html`<figure class="timeline">
    <svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="timeline-title" preserveAspectRatio="xMinYMin meet">
      <title id="timeline-title">Timeline of the steps of run ${run.id}, from its creation at ${utcText(run.createdAt)}</title>
      ${holds}
      ${ticks.map(
        (t) =>
          html`<line class="tick" x1="${t.at.toFixed(1)}" x2="${t.at.toFixed(1)}" y1="${top - 8}" y2="${height - 14}" /><text
              class="tick-label"
              x="${t.at.toFixed(1)}"
              y="${height - 2}"
              text-anchor="middle"
              >${t.label}</text
            >`,
      )}
      ${bars}
    </svg>
    <figcaption>Steps on a time axis from the run's creation; shaded: waiting for approval. Colours follow the step states listed below.</figcaption>
  </figure>`;
}
