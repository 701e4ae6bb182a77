import type { Run, RunState } from '../../../domain/run.js';
import { RUN_SEARCH_WINDOW } from '../../../domain/store-records.js';
import { RUN_STATES, columns, mode, playbookSelect, runState, stateWord, time } from '../format.js';
import { html, query, type SafeHtml } from '../html.js';

/** The runs page's filters, as they came in the query string (checked). */
export interface RunFilters {
  readonly state?: RunState;
  readonly playbook?: string;
  readonly mode?: 'dry' | 'live';
  readonly q?: string;
  readonly cursor?: string;
}

/** What the runs page shows. */
export interface RunsView {
  readonly filters: RunFilters;
  readonly runs: readonly Run[];
  readonly next: string | null;
  readonly partial: boolean;
  readonly playbooks: readonly string[];
}

/** Runs, newest first: filters, a table, paging. Updates live while on the first page. */
export function runsPage(v: RunsView): SafeHtml {
  const f = v.filters;
  const keep = { state: f.state, playbook: f.playbook, mode: f.mode, q: f.q };
  const filtered = Object.values(keep).some((x) => x !== undefined && x !== '');
  return html`<h1>Runs</h1>
    <form class="filters" method="get" action="/console/runs" role="search" aria-label="Filter runs">
      <label
        >State
        <select name="state">
          <option value="">any</option>
          ${RUN_STATES.map((s) => html`<option value="${s}" ${f.state === s ? html` selected` : ''}>${stateWord(s)}</option>`)}
        </select></label
      >
      ${playbookSelect(v.playbooks, f.playbook)}
      <label
        >Mode
        <select name="mode">
          <option value="">dry and live</option>
          <option value="live" ${f.mode === 'live' ? html` selected` : ''}>live</option>
          <option value="dry" ${f.mode === 'dry' ? html` selected` : ''}>dry run</option>
        </select></label
      >
      <label class="grow"
        >Search alertname and labels
        <input type="search" name="q" value="${f.q ?? ''}" placeholder="checkout namespace=shop" maxlength="200" />
      </label>
      <button type="submit">Filter</button>
      ${filtered ? html`<a href="/console/runs">Clear filters</a>` : ''}
    </form>
    <div data-live="runs">
      ${
        v.runs.length === 0
          ? html`<p class="empty">${v.partial ? `No match among these ${RUN_SEARCH_WINDOW.toLocaleString('en')} runs.` : 'No runs match.'}</p>`
          : html`<div class="table-wrap">
              <table class="runs">
                <caption class="visually-hidden">
                  Runs, newest first
                </caption>
                ${columns('Created', 'State', 'Playbook', 'Alert', 'Target', 'Mode')}
                <tbody>
                  ${v.runs.map(
                    (r) =>
                      html`<tr data-run="${r.id}">
                        <td>${time(r.createdAt)}</td>
                        <td>${runState(r.state)}</td>
                        <td>${r.playbook}</td>
                        <td><a href="/console/runs/${encodeURIComponent(r.id)}">${r.alertname}</a></td>
                        <td class="mono">${r.targetKey}</td>
                        <td>${mode(r.dryRun)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      <nav class="pager" aria-label="Pages of runs">
        ${f.cursor ? html`<a href="/console/runs${query(keep)}">Newest runs</a>` : ''}
        ${
          v.next
            ? html`<a href="/console/runs${query({ ...keep, cursor: v.next })}" rel="next"
                >${v.partial ? `Search ${RUN_SEARCH_WINDOW.toLocaleString('en')} older runs` : 'Older runs'}</a
              >`
            : ''
        }
      </nav>
      ${
        v.partial
          ? html`<p class="hint">
              A search or mode filter looks through ${RUN_SEARCH_WINDOW.toLocaleString('en')} runs per page, newest first; a state or playbook filter narrows it
              for free.
            </p>`
          : ''
      }
    </div>`;
}
