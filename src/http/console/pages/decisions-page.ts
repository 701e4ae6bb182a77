import type { AuditEvent } from '../../../domain/run.js';
import { columns, pager, playbookSelect, text, time } from '../format.js';
import { html, query, type SafeHtml } from '../html.js';

/** The decisions page's filters (checked). */
export interface DecisionFilters {
  readonly playbook?: string;
  readonly reason?: string;
  readonly since: string;
  readonly until?: string;
  readonly before?: string;
}

/** What "Decisions" shows: suppressions, newest first, and their counts by reason. */
export interface DecisionsView {
  readonly filters: DecisionFilters;
  readonly suppressions: readonly AuditEvent[];
  /** Suppressions in the window by reason (the report's figures), most first. */
  readonly byReason: Readonly<Record<string, number>>;
  readonly next: string | null;
  readonly playbooks: readonly string[];
}

/** "Why didn't it run?": suppress decisions, each naming what suppressed it. */
export function decisionsPage(v: DecisionsView): SafeHtml {
  const f = v.filters;
  const keep = { playbook: f.playbook, reason: f.reason, since: f.since, until: f.until };
  const reasons = Object.entries(v.byReason);
  return html`<h1>Decisions: why didn't it run?</h1>
    <form class="filters" method="get" action="/console/decisions" role="search" aria-label="Filter decisions">
      ${playbookSelect(v.playbooks, f.playbook)}
      <label>Reason <input name="reason" value="${f.reason ?? ''}" placeholder="cooldown" maxlength="60" /></label>
      <label>Since <input name="since" value="${f.since}" placeholder="24h or 2026-11-28T03:00:00Z" maxlength="40" /></label>
      <label>Until <input name="until" value="${f.until ?? ''}" placeholder="now" maxlength="40" /></label>
      <button type="submit">Filter</button>
    </form>
    <div data-live="decisions">
      <h2>By reason</h2>
      ${
        reasons.length === 0
          ? html`<p class="empty">No suppression in this window.</p>`
          : html`<ul class="tally">
              ${reasons.map(([reason, n]) => html`<li><a href="/console/decisions${query({ ...keep, reason })}">${reason}</a> <span class="count">${n}</span></li>`)}
            </ul>`
      }
      <h2>Suppressions, newest first</h2>
      ${
        v.suppressions.length === 0
          ? html`<p class="empty">None found.</p>`
          : html`<div class="table-wrap">
              <table>
                ${columns('At', 'Playbook', 'Alert', 'Reason', 'What suppressed it')}
                <tbody>
                  ${v.suppressions.map(
                    (e) =>
                      html`<tr>
                        <td>${time(e.at)}</td>
                        <td>${e.playbook ?? ''}</td>
                        <td>${text(e.data['alertname'])} <span class="mono">${text(e.data['targetKey'])}</span></td>
                        <td><span class="badge tone-neutral">${text(e.data['reason'])}</span></td>
                        <td>${detail(text(e.data['detail']))}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      ${pager('Pages of decisions', f.before ? `/console/decisions${query(keep)}` : null, v.next ? `/console/decisions${query({ ...keep, before: v.next })}` : null)}
    </div>`;
}

/** The decision's detail, with the run it names (a lock holder, an active run) linked. */
function detail(words: string): SafeHtml {
  const m = /\brun (r_[0-9A-Z]{26})\b/.exec(words);
  if (!m) return html`${words}`;
  const id = m[1] as string;
  return html`${words.slice(0, m.index)}run <a class="mono" href="/console/runs/${id}">${id}</a>${words.slice(m.index + m[0].length)}`;
}
