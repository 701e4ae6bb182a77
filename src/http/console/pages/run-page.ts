import { openRequest } from '../../../domain/approval.js';
import { describeRendered } from '../../../domain/describe-step.js';
import type { AuditEvent, RunDetail, RunStep } from '../../../domain/run.js';
import { between, columns, mode, runState, stepState, text, time } from '../format.js';
import { html, safeHref, type SafeHtml } from '../html.js';
import { timeline } from '../timeline-svg.js';

/** What the run page shows besides the run: what the signed-in person may do to it. */
export interface RunView {
  readonly run: RunDetail;
  readonly now: Date;
  readonly csrf: string;
  /** The person holds approve and is among the open request's approvers. */
  readonly mayDecide: boolean;
  /** Why not, when they hold approve but may not decide this request. */
  readonly notApprover: string | null;
  /** The person holds operate. */
  readonly mayCancel: boolean;
}

/** Output longer than this many lines is folded (a <details> shows the rest). */
const FOLD_LINES = 12;

/** A run: the alert, the decision, the timeline, each step, approvals, events; buttons for who may press them. */
export function runPage(v: RunView): SafeHtml {
  const r = v.run;
  const decision = r.events.find((e) => e.kind === 'decision');
  return html`<p class="crumbs"><a href="/console/runs">Runs</a> › run <span class="mono">${r.id}</span></p>
    <div data-live="run-head">
      <h1>${r.playbook} <span class="for">for</span> ${r.alertname}</h1>
      <p class="state-line">${runState(r.state)} ${mode(r.dryRun)} ${r.needsApproval ? html`<span class="badge tone-wait">needs approval</span>` : ''}</p>
      <p class="reason">${r.reason}</p>
      <dl class="facts">
        <dt>Created</dt>
        <dd>${time(r.createdAt)}</dd>
        <dt>Updated</dt>
        <dd>${time(r.updatedAt)}</dd>
        <dt>Finished</dt>
        <dd>${time(r.finishedAt, 'not yet')}</dd>
        <dt>Alert resolved</dt>
        <dd>${time(r.resolvedAt, 'not yet')}</dd>
        <dt>Target key</dt>
        <dd class="mono">${r.targetKey}</dd>
        ${
          r.lockKey
            ? html`<dt>Lock</dt>
                <dd class="mono">${r.lockKey}</dd>`
            : ''
        }
        <dt>Playbook version</dt>
        <dd class="mono" title="sha256 of the playbook file">${r.playbookHash.slice(0, 12)}</dd>
      </dl>
    </div>
    <section aria-labelledby="actions-h" data-live="actions">
      <h2 id="actions-h" class="visually-hidden">Actions</h2>
      ${actions(v)}
    </section>
    <section aria-labelledby="alert-h">
      <h2 id="alert-h">The alert</h2>
      ${pairs('Labels', r.labels)} ${pairs('Annotations', r.annotations)}
      <p>Source: ${source(r.generatorUrl)}</p>
      <p>Fingerprint <span class="mono">${r.fingerprint}</span>, firing since ${time(r.startsAt)}</p>
    </section>
    <section aria-labelledby="decision-h">
      <h2 id="decision-h">Decision</h2>
      ${
        decision
          ? html`<p>
              <strong>${text(decision.data['action'])}</strong>${decision.data['dryRun'] === true ? ' (dry run)' : ''}: ${text(decision.data['reason'])} at
              ${time(decision.at)}
            </p>`
          : html`<p class="empty">No decision event is kept for this run (retention may have removed it).</p>`
      }
    </section>
    <section aria-labelledby="timeline-h" data-live="timeline">
      <h2 id="timeline-h">Timeline</h2>
      ${timeline(r, v.now)}
    </section>
    <section aria-labelledby="steps-h" data-live="steps">
      <h2 id="steps-h">Steps</h2>
      ${
        r.steps.length === 0
          ? html`<p class="empty">This run has no steps.</p>`
          : html`<ol class="steps">
              ${r.steps.map((s) => step(r, s))}
            </ol>`
      }
    </section>
    <section aria-labelledby="approvals-h" data-live="approvals">
      <h2 id="approvals-h">Approval requests</h2>
      ${
        r.approvals.length === 0
          ? html`<p class="empty">This run never asked for approval.</p>`
          : html`<div class="table-wrap">
              <table>
                ${columns('#', 'Before step', 'Asked', 'Approvers', 'Outcome', 'By, via', 'Comment')}
                <tbody>
                  ${r.approvals.map(
                    (a) =>
                      html`<tr>
                        <td>${a.seq}</td>
                        <td>${a.stepName}</td>
                        <td>${time(a.requestedAt)}</td>
                        <td>${a.approvers.length ? a.approvers.join(', ') : 'anyone with the approve role'}</td>
                        <td>
                          ${
                            a.decision
                              ? html`<span class="badge tone-${a.decision === 'approved' ? 'good' : a.decision === 'rejected' ? 'bad' : 'neutral'}"
                                    >${a.decision}</span
                                  >
                                  ${time(a.decidedAt)}`
                              : html`<span class="badge tone-wait">waiting</span> expires ${time(a.expiresAt)}`
                          }
                        </td>
                        <td>${a.decidedBy ? `${a.decidedBy} via ${a.decidedVia ?? '?'}` : '–'}</td>
                        <td>${a.comment ?? ''}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </section>
    <section aria-labelledby="events-h" data-live="events">
      <h2 id="events-h">Audit events</h2>
      ${eventsTable(r.events)}
    </section>`;
}

function actions(v: RunView): SafeHtml {
  const r = v.run;
  const open = openRequest(r);
  const parts: SafeHtml[] = [];
  if (r.state === 'awaiting_approval' && open) {
    parts.push(
      html`<p class="waiting">
        Waiting for approval before step <strong>${open.stepName}</strong> (request #${open.seq}); expires ${time(open.expiresAt)}.
        ${open.message ? html`<br />${open.message}` : ''}
      </p>`,
    );
    if (v.mayDecide) {
      const id = encodeURIComponent(r.id);
      parts.push(
        html`<form class="decide" method="post" action="/console/runs/${id}/approve">
          <input type="hidden" name="_csrf" value="${v.csrf}" />
          <input type="hidden" name="seq" value="${open.seq}" />
          <label for="comment">Comment (recorded with your decision)</label>
          <textarea id="comment" name="comment" rows="2" maxlength="1000"></textarea>
          <div class="buttons">
            <button type="submit" class="approve" formaction="/console/runs/${id}/approve">Approve</button>
            <button type="submit" class="reject" formaction="/console/runs/${id}/reject">Reject</button>
          </div>
        </form>`,
      );
    } else if (v.notApprover) parts.push(html`<p class="hint">${v.notApprover}</p>`);
  }
  if (v.mayCancel && (r.state === 'pending' || r.state === 'awaiting_approval' || r.state === 'running')) {
    parts.push(
      html`<form class="cancel" method="post" action="/console/runs/${encodeURIComponent(r.id)}/cancel">
        <input type="hidden" name="_csrf" value="${v.csrf}" />
        <label for="cancel-reason">Reason to cancel</label>
        <input id="cancel-reason" name="reason" maxlength="1000" />
        <button type="submit" class="danger">Cancel run</button>
      </form>`,
    );
  }
  return html`${parts}`;
}

function pairs(title: string, values: Readonly<Record<string, string>>): SafeHtml {
  const entries = Object.entries(values);
  if (entries.length === 0) return html`<p class="empty">No ${title.toLowerCase()}.</p>`;
  return html`<div class="table-wrap">
    <table class="pairs">
      <caption>
        ${title}
      </caption>
      <tbody>
        ${entries.map(
          ([k, val]) =>
            html`<tr>
              <th scope="row">${k}</th>
              <td class="mono">${val}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** The alert's generatorURL: a link only when it is http(s); anything else is shown as text. */
function source(url: string | null): SafeHtml {
  if (!url) return html`<span class="empty">none sent</span>`;
  const href = safeHref(url);
  if (href === null) return html`<span class="mono refused" title="not an http(s) URL: not linked">${url}</span> (not linked: not an http or https URL)`;
  return html`<a href="${href}" rel="noopener noreferrer nofollow" target="_blank">${url}</a>`;
}

function step(r: RunDetail, s: RunStep): SafeHtml {
  const retries = r.events.filter((e) => e.kind === 'step.retry' && e.data['step'] === s.name).length;
  // An http step's body is part of what it sends (stored redacted, like the command).
  const r0 = s.rendered;
  const command = `${describeRendered(r0, r.dryRun)}${r0.kind === 'http' && r0.body !== null && r0.body !== undefined ? `\n${JSON.stringify(r0.body, null, 2)}` : ''}`;
  return html`<li class="step" id="step-${s.phase}-${s.index}">
    <h3>
      ${s.phase === 'onFailure' ? 'on failure: ' : ''}${s.name} <span class="kind">${s.kind}${s.readOnly ? ', read-only' : ''}</span>
      ${stepState(s.state)}
    </h3>
    <pre class="command" aria-label="${s.kind === 'http' ? 'request' : 'command'}">${command}</pre>
    <p class="step-facts">
      started ${time(s.startedAt, 'not yet')} · took ${between(s.startedAt, s.finishedAt)}
      ${s.exitCode !== null ? html` · exit code <strong>${s.exitCode}</strong>` : ''}${retries > 0 ? html` · ${retries} retr${retries === 1 ? 'y' : 'ies'}` : ''}
      ${s.deferred && s.startedAt === null ? ' · rendered when it runs (uses earlier steps)' : ''}
    </p>
    ${s.error ? html`<p class="error">${s.error}</p>` : ''} ${output(s.output)}
  </li>`;
}

function output(captured: string | null): SafeHtml {
  if (!captured) return html``;
  const lines = captured.split('\n');
  if (lines.length <= FOLD_LINES) return html`<pre class="output">${captured}</pre>`;
  return html`<pre class="output">${lines.slice(0, FOLD_LINES).join('\n')}</pre>
    <details class="more">
      <summary>${lines.length - FOLD_LINES} more lines of output</summary>
      <pre class="output">${lines.slice(FOLD_LINES).join('\n')}</pre>
    </details>`;
}

/** Audit events as a table (the run page and the audit page share it). */
export function eventsTable(events: readonly AuditEvent[]): SafeHtml {
  if (events.length === 0) return html`<p class="empty">No events.</p>`;
  return html`<div class="table-wrap">
    <table class="events">
      ${columns('#', 'At', 'Kind', 'Run', 'Data')}
      <tbody>
        ${events.map(
          (e) =>
            html`<tr>
              <td>${e.id}</td>
              <td>${time(e.at)}</td>
              <td>${e.kind}</td>
              <td>${e.runId ? html`<a class="mono" href="/console/runs/${encodeURIComponent(e.runId)}">${e.runId.slice(-8)}</a>` : '–'}</td>
              <td><code class="data">${JSON.stringify(e.data)}</code></td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
