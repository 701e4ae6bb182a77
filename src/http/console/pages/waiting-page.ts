import { openRequest } from '../../../domain/approval.js';
import type { RunDetail } from '../../../domain/run.js';
import { countdown, mode, stepState, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';

/** What "Waiting for me" shows. */
export interface WaitingView {
  /** Held runs the person may decide, soonest expiry first. */
  readonly runs: readonly RunDetail[];
  /** Held runs others must decide (counted, not listed). */
  readonly others: number;
  readonly canApprove: boolean;
}

const PREVIEW_LINES = 6;

/** Runs held for approval that the signed-in person may decide, with their expiry counting down and what the read-only steps found. */
export function waitingPage(v: WaitingView): SafeHtml {
  return html`<h1>Waiting for me</h1>
    <div data-live="waiting">
      ${
        !v.canApprove
          ? html`<p class="empty">You do not hold the approve role, so no run waits for you. Ask for it in auth.roles.</p>`
          : v.runs.length === 0
            ? html`<p class="empty">Nothing waits for your decision.</p>`
            : html`<ul class="cards">
                ${v.runs.map(card)}
              </ul>`
      }
      ${v.others > 0 ? html`<p class="hint">${v.others} more held run(s) wait for other approvers.</p>` : ''}
    </div>`;
}

function card(r: RunDetail): SafeHtml {
  const open = openRequest(r);
  const found = r.steps.filter((s) => s.phase === 'main' && s.startedAt !== null && s.index < (open?.stepIndex ?? 0));
  return html`<li class="card">
    <h2><a href="/console/runs/${encodeURIComponent(r.id)}">${r.playbook} for ${r.alertname}</a></h2>
    <p>${mode(r.dryRun)} target <span class="mono">${r.targetKey}</span>, held since ${time(open?.requestedAt)}</p>
    ${
      open
        ? html`<p>
            Before step <strong>${open.stepName}</strong>; expires in
            <strong>${countdown(open.expiresAt)}</strong> ${open.message ? html`<br />${open.message}` : ''}
          </p>`
        : ''
    }
    ${
      found.length > 0
        ? html`<details open>
            <summary>What the steps before it found</summary>
            <ul class="found">
              ${found.map(
                (s) =>
                  html`<li>
                    ${s.name} ${stepState(s.state)}${s.exitCode !== null ? ` exit ${s.exitCode}` : ''}
                    ${s.output ? html`<pre class="output">${s.output.split('\n').slice(0, PREVIEW_LINES).join('\n')}</pre>` : ''}
                  </li>`,
              )}
            </ul>
          </details>`
        : ''
    }
    <p><a class="button" href="/console/runs/${encodeURIComponent(r.id)}#actions-h">Decide</a></p>
  </li>`;
}
