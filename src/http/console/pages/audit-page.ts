import type { ChainVerdict } from '../../../domain/audit-chain.js';
import type { AuditEvent } from '../../../domain/run.js';
import { pager, time } from '../format.js';
import { html, query, type SafeHtml } from '../html.js';
import { eventsTable } from './run-page.js';

/** The audit page's filters (checked). */
export interface AuditFilters {
  readonly run?: string;
  readonly playbook?: string;
  readonly kind?: string;
  readonly since?: string;
  readonly until?: string;
  readonly before?: string;
}

/** The last verify asked from the console (kept by this process). */
export interface VerifyView {
  readonly at: string;
  readonly by: string;
  readonly verdict: ChainVerdict;
  readonly tookMs: number;
}

/** What the audit page shows. */
export interface AuditView {
  readonly filters: AuditFilters;
  readonly events: readonly AuditEvent[];
  readonly next: string | null;
  readonly lastVerify: VerifyView | null;
  readonly csrf: string;
}

/** The trail with filters, newest first; verify on demand; export as JSON Lines. */
export function auditPage(v: AuditView): SafeHtml {
  const f = v.filters;
  const keep = { run: f.run, playbook: f.playbook, kind: f.kind, since: f.since, until: f.until };
  return html`<h1>Audit trail</h1>
    <form class="filters" method="get" action="/console/audit" role="search" aria-label="Filter events">
      <label>Run <input name="run" value="${f.run ?? ''}" maxlength="40" /></label>
      <label>Playbook <input name="playbook" value="${f.playbook ?? ''}" maxlength="100" /></label>
      <label>Kind <input name="kind" value="${f.kind ?? ''}" placeholder="decision" maxlength="40" /></label>
      <label>Since <input name="since" value="${f.since ?? ''}" placeholder="24h" maxlength="40" /></label>
      <label>Until <input name="until" value="${f.until ?? ''}" placeholder="now" maxlength="40" /></label>
      <button type="submit">Filter</button>
    </form>
    <section aria-labelledby="verify-h" class="verify">
      <h2 id="verify-h">Verify and export</h2>
      <form method="post" action="/console/audit/verify" class="inline">
        <input type="hidden" name="_csrf" value="${v.csrf}" />
        <button type="submit">Verify the chain now</button>
      </form>
      <a class="button" href="/console/audit/export${query({ since: f.since, until: f.until })}" download
        >Export as JSON Lines${f.since || f.until ? ' (this time range)' : ''}</a
      >
      ${v.lastVerify ? verdict(v.lastVerify) : ''}
    </section>
    <div data-live="audit">
      ${eventsTable(v.events)}
      ${pager('Pages of events', f.before ? `/console/audit${query(keep)}` : null, v.next ? `/console/audit${query({ ...keep, before: v.next })}` : null)}
    </div>`;
}

function verdict(v: VerifyView): SafeHtml {
  const r = v.verdict;
  if (r.problem === null) {
    return html`<p class="notice notice-ok" role="status">
      Intact: ${r.count} event(s)${r.last ? html`, last hash <span class="mono">${r.last.hash}</span> (event ${r.last.id})` : ''}; verified by ${v.by}
      ${time(v.at)} in ${v.tookMs} ms.
    </p>`;
  }
  return html`<p class="notice notice-error" role="alert">
    BROKEN: ${r.problem.message}. ${r.count} event(s) before it are intact. Verified by ${v.by} ${time(v.at)}.
  </p>`;
}
