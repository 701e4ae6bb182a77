import type { Run } from '../../../domain/run.js';
import type { EscalationRecord, StormRecord } from '../../../domain/store.js';
import type { GuardStatus } from '../../../guards/guard-switches.js';
import { columns, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';

/** A maintenance window as the guards page shows it: in force now, and when it next starts. */
export interface WindowView {
  readonly name: string;
  readonly cron: string;
  readonly action: 'suppress' | 'dry-run';
  readonly matchers: readonly string[];
  readonly durationText: string;
  /** In force now: since when and until when. */
  readonly current: { readonly from: string; readonly until: string } | null;
  /** Its next start within the coming week, or null. */
  readonly next: string | null;
}

/** The last reload asked from the console (kept by this process). */
export interface ReloadView {
  readonly at: string;
  readonly by: string;
  readonly ok: boolean;
  readonly summary: string;
  readonly errors: readonly string[];
}

/** What the guards page shows. */
export interface GuardsView {
  readonly status: GuardStatus;
  readonly windows: readonly WindowView[];
  readonly lastReload: ReloadView | null;
  /** The open escalations. */
  readonly escalations: readonly EscalationRecord[];
  /** The open storm (at most one), with its runs. */
  readonly storms: readonly { readonly storm: StormRecord; readonly runs: readonly Run[] }[];
  readonly canOperate: boolean;
  readonly canApprove: boolean;
  readonly csrf: string;
}

/** Pause and resume, the circuit and the budget, maintenance windows, reload. */
export function guardsPage(v: GuardsView): SafeHtml {
  const s = v.status;
  const hidden = html`<input type="hidden" name="_csrf" value="${v.csrf}" />`;
  return html`<h1>Guards</h1>
    ${v.canOperate ? '' : html`<p class="hint">You hold no operate role: you see the guards but cannot change them.</p>`}
    <section aria-labelledby="pause-h" data-live="pause">
      <h2 id="pause-h">Pause</h2>
      ${
        s.paused && s.pause
          ? html`<p>
              <span class="badge tone-wait">paused</span> by ${s.pause.by} since ${time(s.pause.pausedAt)} until ${time(s.pause.until)}: ${s.pause.reason}
            </p>`
          : html`<p>
              <span class="badge tone-good">not paused</span
              >${s.pause ? html` (last pause by ${s.pause.by}, ${s.pause.reason}, ended ${time(s.pause.resumedAt ?? s.pause.until)})` : ''}
            </p>`
      }
      ${
        v.canOperate
          ? html`<form method="post" action="/console/guards/pause" class="inline">
                ${hidden}
                <label>For <input name="for" value="1h" required pattern="(\\d+(ms|s|m|h|d|w))+" size="6" aria-describedby="for-hint" /></label>
                <span id="for-hint" class="hint">such as 30m or 2h, at most 7d</span>
                <label class="grow">Reason <input name="reason" required maxlength="500" /></label>
                <button type="submit">${s.paused ? 'Replace the pause' : 'Pause'}</button>
              </form>
              ${s.paused ? html`<form method="post" action="/console/guards/resume" class="inline">${hidden}<button type="submit">Resume now</button></form>` : ''}`
          : ''
      }
    </section>
    <section aria-labelledby="circuit-h" data-live="circuit">
      <h2 id="circuit-h">Circuit and budget</h2>
      ${
        s.circuitOpen && s.circuit
          ? html`<p><span class="badge tone-bad">open</span> since ${time(s.circuit.openedAt)}: ${s.circuit.reason}. Every live run waits for approval.</p>`
          : html`<p>
              <span class="badge tone-good">closed</span>${
                s.circuit?.closedAt
                  ? html` (last closed by ${s.circuit.closedBy ?? '?'} ${time(s.circuit.closedAt)}${s.circuit.closeNote ? `: ${s.circuit.closeNote}` : ''})`
                  : ''
              }
            </p>`
      }
      ${
        s.budget
          ? html`<p>
              Budget: <strong>${s.budget.liveRuns}</strong> of ${s.budget.count} live run(s) per ${s.budget.per} used.
              <meter min="0" max="${s.budget.count}" value="${Math.min(s.budget.liveRuns, s.budget.count)}" aria-label="budget used"></meter>
            </p>`
          : html`<p>No budget is configured.</p>`
      }
      ${
        v.canOperate && s.circuitOpen
          ? html`<form method="post" action="/console/guards/circuit/close" class="inline">
              ${hidden}
              <label class="grow">Note <input name="note" maxlength="500" /></label>
              <button type="submit">Close the circuit</button>
            </form>`
          : ''
      }
    </section>
    ${stormSection(v, hidden)} ${escalationSection(v, hidden)}
    <section aria-labelledby="windows-h">
      <h2 id="windows-h">Maintenance windows</h2>
      ${
        v.windows.length === 0
          ? html`<p class="empty">None configured (guards.maintenance).</p>`
          : html`<div class="table-wrap">
              <table>
                ${columns('Window', 'Schedule', 'Action', 'Alerts', 'Now', 'Next start')}
                <tbody>
                  ${v.windows.map(
                    (w) =>
                      html`<tr>
                        <td>${w.name}</td>
                        <td class="mono">${w.cron} for ${w.durationText}</td>
                        <td>${w.action}</td>
                        <td class="mono">${w.matchers.join(', ') || 'all'}</td>
                        <td>
                          ${
                            w.current
                              ? html`<span class="badge tone-wait">in force</span> until ${time(w.current.until)}`
                              : html`<span class="badge tone-neutral">not in force</span>`
                          }
                        </td>
                        <td>${time(w.next, 'not within a week')}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </section>
    <section aria-labelledby="reload-h" id="reload">
      <h2 id="reload-h">Playbooks</h2>
      ${
        v.canOperate
          ? html`<form method="post" action="/console/guards/reload" class="inline">${hidden}<button type="submit">Reload the playbooks</button></form>`
          : ''
      }
      ${
        v.lastReload
          ? html`<div class="${v.lastReload.ok ? 'notice notice-ok' : 'notice notice-error'}">
              <p>Reload by ${v.lastReload.by} ${time(v.lastReload.at)}: ${v.lastReload.summary}</p>
              ${
                v.lastReload.errors.length > 0
                  ? html`<ul class="errors">
                      ${v.lastReload.errors.map((e) => html`<li><pre>${e}</pre></li>`)}
                    </ul>`
                  : ''
              }
            </div>`
          : ''
      }
    </section>`;
}

function stormSection(v: GuardsView, hidden: SafeHtml): SafeHtml {
  const open = v.storms[0];
  if (open === undefined)
    return html`<section aria-labelledby="storm-h">
      <h2 id="storm-h">Storm</h2>
      <p><span class="badge tone-good">none</span> Live runs are decided one by one (guards.storm).</p>
    </section>`;
  const { storm, runs } = open;
  const heldRuns = runs.filter((r) => r.state === 'awaiting_approval');
  const held = heldRuns.length;
  // The verdict decides what this page showed, not runs the storm held since.
  const upTo = heldRuns.reduce((m, r) => (r.createdAt > m ? r.createdAt : m), '');
  const labels = Object.entries(storm.commonLabels).map(([k, val]) => `${k}=${val}`);
  const path = `/console/guards/storms/${encodeURIComponent(storm.id)}`;
  return html`<section aria-labelledby="storm-h" data-live="storm">
    <h2 id="storm-h">Storm</h2>
    <p>
      <span class="badge tone-bad">storm</span> ${storm.id}: <strong>${storm.alerts}</strong> alerts across <strong>${storm.targets}</strong> targets since
      ${time(storm.openedAt)}, the last new one ${time(storm.lastAlertAt)}. Live runs wait for a person until it has been quiet for its cooldown.
    </p>
    <p>Shared labels: <span class="mono">${labels.join(', ') || 'none'}</span>. Playbooks: ${storm.playbooks.join(', ')}.</p>
    <p>${runs.length} run(s), <strong>${held}</strong> waiting for a person.</p>
    ${
      v.canApprove && held > 0
        ? html`<form method="post" action="${path}/approve" class="inline">
              ${hidden}<input type="hidden" name="upTo" value="${upTo}" />
              <label class="grow">Comment <input name="comment" maxlength="500" /></label>
              <button type="submit">Approve ${held} held run(s)</button>
            </form>
            <form method="post" action="${path}/reject" class="inline">
              ${hidden}<input type="hidden" name="upTo" value="${upTo}" /><button type="submit" class="danger">Reject all held runs</button>
            </form>`
        : ''
    }
  </section>`;
}

function escalationSection(v: GuardsView, hidden: SafeHtml): SafeHtml {
  return html`<section aria-labelledby="escalations-h">
    <h2 id="escalations-h">Escalations</h2>
    ${
      v.escalations.length === 0
        ? html`<p class="empty">None open: automation acts on every target.</p>`
        : html`<div class="table-wrap">
            <table>
              ${columns('Escalation', 'Playbook', 'Target', 'Opened', 'Why', '')}
              <tbody>
                ${v.escalations.map(
                  (e) =>
                    html`<tr>
                      <td class="mono">${e.id}</td>
                      <td>${e.playbook}</td>
                      <td class="mono">${e.targetKey}</td>
                      <td>${time(e.openedAt)}</td>
                      <td>${e.reason}</td>
                      <td>
                        ${
                          v.canOperate
                            ? html`<form method="post" action="/console/guards/escalations/${encodeURIComponent(e.id)}/clear" class="inline">
                                ${hidden}
                                <label>Note <input name="note" maxlength="500" aria-label="what was done about ${e.targetKey}" /></label>
                                <button type="submit">Clear</button>
                              </form>`
                            : ''
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
  </section>`;
}
