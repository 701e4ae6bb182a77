import type { AuditEvent } from './run.js';
import type { AuditLog } from './store.js';

/**
 * A decision as the pipeline recorded it (a `decision` event): what test and replay compare.
 * The same shape is read from a sandbox's store and from a recorded history, so both sides of a
 * comparison come from the one record the daemon writes.
 */
export interface Decided {
  readonly playbook: string;
  readonly alertname: string;
  readonly fingerprint: string;
  readonly startsAt: string;
  /** fingerprint@startsAt: the alert instance. */
  readonly instanceKey: string;
  readonly targetKey: string;
  readonly batchId: string | null;
  /** The run the decision created (a run, dry run, held or refused run); null for a suppression. */
  readonly runId: string | null;
  readonly kind: DecisionKind;
  /** The suppression's reason (cooldown, duplicate, …); null for the other kinds. */
  readonly reason: string | null;
  /** Why, in words: the suppression's detail, or the reason a run is live, dry, held or refused. */
  readonly detail: string;
  readonly at: string;
}

/**
 * What was decided, in the words `remediator test` files use: a live run (`run`), one held for a
 * person's approval (`approve`), a dry run, a suppression, or a run refused before any step
 * because the alert's data failed its params.
 */
export type DecisionKind = 'run' | 'approve' | 'dry-run' | 'suppress' | 'refuse';

/** The decision kinds, for schemas and messages. */
export const DECISION_KINDS: readonly DecisionKind[] = ['run', 'approve', 'dry-run', 'suppress', 'refuse'];

/** A decision event as Decided; null for an event that is not one. */
export function toDecided(e: Pick<AuditEvent, 'kind' | 'playbook' | 'fingerprint' | 'batchId' | 'runId' | 'data' | 'at'>): Decided | null {
  if (e.kind !== 'decision' || e.playbook === null) return null;
  const d = e.data;
  const text = (key: string) => (typeof d[key] === 'string' ? d[key] : '');
  const action = text('action');
  const kind: DecisionKind =
    action === 'suppress' ? 'suppress' : action === 'refuse' ? 'refuse' : d['dryRun'] === true ? 'dry-run' : d['needsApproval'] === true ? 'approve' : 'run';
  const startsAt = text('startsAt');
  const fingerprint = e.fingerprint ?? '';
  return {
    playbook: e.playbook,
    alertname: text('alertname'),
    fingerprint,
    startsAt,
    instanceKey: text('instanceKey') || `${fingerprint}@${startsAt}`,
    targetKey: text('targetKey'),
    batchId: e.batchId,
    runId: kind === 'suppress' ? null : e.runId,
    kind,
    reason: kind === 'suppress' ? text('reason') || 'unknown' : null,
    detail: kind === 'suppress' ? text('detail') : text('reason'),
    at: e.at,
  };
}

/** Decision events after `afterId`, in the order recorded, and the id to read on from. */
export async function readDecisions(log: AuditLog, afterId: number): Promise<{ decisions: Decided[]; lastId: number }> {
  const decisions: Decided[] = [];
  let last = afterId;
  for (;;) {
    const page = await log.listEvents({ kind: 'decision', afterId: last, limit: PAGE });
    for (const e of page) {
      const d = toDecided(e);
      if (d !== null) decisions.push(d);
      last = e.id;
    }
    if (page.length < PAGE) return { decisions, lastId: last };
  }
}

const PAGE = 1000;
