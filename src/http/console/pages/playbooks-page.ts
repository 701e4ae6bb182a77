import type { Playbook } from '../../../domain/playbook.js';
import type { Run } from '../../../domain/run.js';
import type { ReportFigures } from '../../../report/report.js';
import { REPORT_STATES } from '../../../report/report.js';
import { resolveChart, type ResolveBucket } from '../chart-svg.js';
import { columns, mode, ms, runState, stateWord, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';

/** The active playbooks. */
export function playbooksPage(playbooks: readonly Playbook[], loadedAt: Date): SafeHtml {
  return html`<h1>Playbooks</h1>
    <p>${playbooks.length} active, loaded ${time(loadedAt.toISOString())}. <a href="/console/guards#reload">Reload</a></p>
    <div class="table-wrap">
      <table>
        ${columns('Name', 'Mode', 'Alerts', 'Owner', 'File', 'Hash')}
        <tbody>
          ${playbooks.map(
            (p) =>
              html`<tr>
                <td>
                  <a href="/console/playbooks/${encodeURIComponent(p.name)}">${p.name}</a>
                  <div class="sub">${p.description}</div>
                </td>
                <td>${p.mode}</td>
                <td>${p.match.alertnames?.join(', ') ?? 'any'}</td>
                <td>${p.owner}</td>
                <td class="mono">${p.file}</td>
                <td class="mono" title="${p.hash}">${p.hash.slice(0, 12)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
}

/** One playbook: what it is, its figures (the report's), its time to resolve by week, its last runs, its YAML. */
export interface PlaybookView {
  readonly playbook: Playbook;
  readonly figures: ReportFigures | null;
  readonly window: string;
  readonly buckets: readonly ResolveBucket[];
  readonly lastRuns: readonly Run[];
  /** The file as it is on disk, and whether it is the version loaded. */
  readonly source: { readonly text: string; readonly current: boolean } | null;
}

/** A playbook's page. */
export function playbookPage(v: PlaybookView): SafeHtml {
  const p = v.playbook;
  return html`<p class="crumbs"><a href="/console/playbooks">Playbooks</a> › ${p.name}</p>
    <h1>${p.name}</h1>
    <p>${p.description}</p>
    <dl class="facts">
      <dt>Owner</dt>
      <dd>${p.owner}</dd>
      <dt>Mode</dt>
      <dd>${p.mode}</dd>
      <dt>Alerts</dt>
      <dd>${p.match.alertnames?.join(', ') ?? 'any'} (${p.match.status})</dd>
      <dt>Matchers</dt>
      <dd class="mono">${p.match.matchers.map(String).join(', ') || 'none'}</dd>
      <dt>Steps</dt>
      <dd>${p.steps.map((s) => `${s.name} (${s.kind}${s.readOnly ? ', read-only' : ''})`).join(' → ')}</dd>
      <dt>File</dt>
      <dd class="mono">${p.file}</dd>
      <dt>Hash</dt>
      <dd class="mono">${p.hash}</dd>
    </dl>
    <section aria-labelledby="figures-h">
      <h2 id="figures-h">Figures, ${v.window}</h2>
      ${v.figures ? figures(v.figures) : html`<p class="empty">No run or suppression in this window.</p>`}
      ${v.buckets.some((b) => b.count > 0) ? resolveChart(v.buckets) : html`<p class="empty">No live run resolved its alert in the last weeks: no chart yet.</p>`}
    </section>
    <section aria-labelledby="last-h" data-live="last-runs">
      <h2 id="last-h">Last runs</h2>
      ${
        v.lastRuns.length === 0
          ? html`<p class="empty">No run yet.</p>`
          : html`<ul class="plain">
              ${v.lastRuns.map(
                (r) =>
                  html`<li>
                    ${time(r.createdAt)} ${runState(r.state)} ${mode(r.dryRun)} <a href="/console/runs/${encodeURIComponent(r.id)}">${r.alertname}</a>
                  </li>`,
              )}
            </ul>`
      }
      <p><a href="/console/runs?playbook=${encodeURIComponent(p.name)}">All runs of ${p.name}</a></p>
    </section>
    <section aria-labelledby="yaml-h">
      <h2 id="yaml-h">Source</h2>
      ${
        v.source === null
          ? html`<p class="empty">The file cannot be read now.</p>`
          : html`${v.source.current ? '' : html`<p class="notice notice-error">The file changed since it was loaded: this is the file now, not the active version. Reload to apply it.</p>`}
              <pre class="yaml" tabindex="0" aria-label="${p.file}">${v.source.text}</pre>`
      }
    </section>`;
}

function figures(f: ReportFigures): SafeHtml {
  const states = REPORT_STATES.filter((s) => f.runs.live[s] + f.runs.dryRun[s] > 0);
  const t = f.timeToResolve;
  return html`<div class="table-wrap">
      <table>
        <caption>
          Runs by outcome
        </caption>
        ${columns('Mode', 'Runs', ...states.map(stateWord))}
        <tbody>
          <tr>
            <th scope="row">live</th>
            <td>${f.runs.live.total}</td>
            ${states.map((s) => html`<td>${f.runs.live[s]}</td>`)}
          </tr>
          <tr>
            <th scope="row">dry run (evidence)</th>
            <td>${f.runs.dryRun.total}</td>
            ${states.map((s) => html`<td>${f.runs.dryRun[s]}</td>`)}
          </tr>
        </tbody>
      </table>
    </div>
    <p>
      Time from action to the alert resolving (live): median <strong>${ms(t.medianMs)}</strong>, p90 <strong>${ms(t.p90Ms)}</strong> over ${t.count} run(s);
      ${t.resolvedWithoutAction} resolved without action, ${t.unresolved} not resolved, ${t.neverActed} never acted (rejected, expired, cancelled first).
      Approval wait: median ${ms(f.approvalWait.medianMs)}, p90 ${ms(f.approvalWait.p90Ms)}. Suppressed: ${f.suppressions.total}.
    </p>`;
}
