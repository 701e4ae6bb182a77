import { openRequest, type Identity, type Verdict } from '../domain/approval.js';
import type { Notification, Notifier } from '../domain/notifier.js';
import type { Playbook } from '../domain/playbook.js';
import type { Run, RunDetail } from '../domain/run.js';
import type { ApprovalStore, AuditLog, Lease, RunStore } from '../domain/store.js';
import { deliver } from '../notify/deliver.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { mayDecide, type ApproverGroups } from './approvers.js';

/** What deciding needs; wired once in serve. */
export interface ApprovalDeps {
  readonly store: ApprovalStore & RunStore & AuditLog;
  /** The active playbook of a name (an approved run goes on with it). */
  readonly playbook: (name: string) => Playbook | undefined;
  /** Queues an approved run to go on at its gate. */
  readonly resume: (run: Run, playbook: Playbook) => void;
  /** Stops a run this replica executes or has queued; false when it has not. */
  readonly stopRunning: (runId: string, reason: string) => Promise<boolean>;
  /** Why an approval could not act now (the daemon shuts down, or runs with execution dry-run), or null. */
  readonly refuseVerdicts?: () => { readonly code: 'unavailable' | 'conflict'; readonly message: string } | null;
  readonly groups: ApproverGroups;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly notifiers: readonly Notifier[];
  readonly onRunChanged?: (runId: string) => void;
  /**
   * A run ended here without an executor (rejected, expired, cancelled while held or pending):
   * what was made for it outside (a silence, an annotation) is ended too, whichever replica made it.
   */
  readonly onRunEnded?: (runId: string) => void;
  /** The lease an approved run is taken with: this replica executes it next. */
  readonly lease?: () => Lease;
}

/** What a person's request came to: the run as it is now, or why not, with an error code. */
export type ApprovalResult =
  | { readonly ok: true; readonly run: RunDetail; readonly message: string }
  | { readonly ok: false; readonly code: 'not_found' | 'forbidden' | 'conflict' | 'unavailable'; readonly message: string; readonly run: RunDetail | null };

/**
 * Approve, reject and cancel, whichever channel they come through (Slack buttons, the API, the
 * CLI through the API). Who may decide is checked here; which decision wins is decided by the
 * store, so two approvals racing (on one replica or two) execute the run once.
 */
export class ApprovalService {
  constructor(private readonly deps: ApprovalDeps) {}

  /**
   * A person's verdict on a held run. `seq` names the request the person saw (a Slack button
   * carries it); without it, the request open now. Either way the store decides exactly the
   * request whose approvers were checked here, or refuses.
   */
  async decide(
    runId: string,
    verdict: Verdict,
    who: Identity,
    comment: string | null,
    seq?: number,
    /** quiet: the caller tells people once for many runs (a storm's verdict); nothing per run. */
    options: { quiet?: boolean } = {},
  ): Promise<ApprovalResult> {
    const { store, metrics, logger } = this.deps;
    const refused = this.deps.refuseVerdicts?.() ?? null;
    // Refused before anything is written: during shutdown an approved run could not start.
    if (refused && (refused.code === 'unavailable' || verdict === 'approve')) return { ok: false, code: refused.code, message: refused.message, run: null };
    const detail = await store.getRun(runId);
    if (!detail) return { ok: false, code: 'not_found', message: `no run with id ${runId}`, run: null };
    const open = openRequest(detail);
    if (detail.state !== 'awaiting_approval' || !open) return { ok: false, code: 'conflict', message: notHeld(detail, verdict), run: detail };
    if (seq !== undefined && seq !== open.seq) {
      return {
        ok: false,
        code: 'conflict',
        message: `request #${seq} of run ${runId} is no longer open: it now waits on request #${open.seq} (before step ${open.stepName}); look at that one first`,
        run: detail,
      };
    }
    if (!mayDecide(open.approvers, who, this.deps.groups)) {
      const message = `${who.id} may not ${verdict} run ${runId}: the playbook allows ${open.approvers.join(', ')} (identities, Slack user ids, or groups from approvals.groups)`;
      metrics.approvals.inc({ playbook: detail.playbook, outcome: 'refused' });
      await store.appendEvents([
        {
          kind: 'approval.refused',
          runId,
          playbook: detail.playbook,
          fingerprint: detail.fingerprint,
          data: { seq: open.seq, verdict, by: who.id, via: who.via, ...(who.name ? { name: who.name } : {}), approvers: open.approvers },
        },
      ]);
      logger.warn(`approval refused: ${message}`, { runId, by: who.id, via: who.via });
      return { ok: false, code: 'forbidden', message, run: detail };
    }
    const playbook = this.deps.playbook(detail.playbook);
    if (verdict === 'approve' && (!playbook || playbook.hash !== detail.playbookHash)) {
      // The plan shown to the approver came from another version: running the new one on this
      // approval would act on something nobody looked at.
      const why = playbook ? `playbook ${detail.playbook} changed since the run was proposed` : `playbook ${detail.playbook} is no longer loaded`;
      const cancelled = await store.cancelRun(runId, { at: this.now(), by: who, reason: `${why}; the approval cannot apply to it` });
      if (cancelled !== null) {
        metrics.approvals.inc({ playbook: detail.playbook, outcome: 'cancelled' });
        this.ended(runId);
      }
      return {
        ok: false,
        code: 'conflict',
        message: `${why}: the plan you would approve is not the one that would run, so run ${runId} is cancelled; a new alert instance (after the cooldown) is decided with the playbook as it is now`,
        run: await store.getRun(runId),
      };
    }
    const outcome = await store.decideApproval({
      runId,
      seq: open.seq,
      verdict,
      by: who,
      comment,
      at: this.now(),
      ...(this.deps.lease ? { lease: this.deps.lease() } : {}),
    });
    if (!outcome.ok) {
      const now = await store.getRun(runId);
      if (outcome.why === 'expired') {
        metrics.approvals.inc({ playbook: detail.playbook, outcome: 'expired' });
        this.ended(runId);
      }
      return {
        ok: false,
        code: outcome.why === 'not_found' ? 'not_found' : 'conflict',
        message: now ? notHeld(now, verdict) : `no run with id ${runId}`,
        run: now,
      };
    }
    metrics.approvals.inc({ playbook: detail.playbook, outcome: verdict === 'approve' ? 'approved' : 'rejected' });
    const verb = verdict === 'approve' ? 'approved' : 'rejected';
    logger.info(`run ${runId} ${verb} by ${who.id} via ${who.via}${comment ? `: ${comment}` : ''}`, { runId, by: who.id, via: who.via });
    if (verdict === 'approve' && playbook) {
      this.deps.resume(outcome.run, playbook);
      this.changed(runId);
    } else {
      metrics.runs.inc({ playbook: detail.playbook, outcome: 'rejected', mode: 'live' });
      this.ended(runId);
    }
    const now = (await store.getRun(runId)) as RunDetail;
    if (options.quiet === true) return { ok: true, run: now, message: `run ${runId} ${verb} by ${who.id}` };
    await this.tell(now, {
      kind: 'approval.decided',
      text: `${now.playbook} for ${now.alertname} (${now.targetKey}) ${verb} by ${who.id} via ${who.via}${comment ? `: ${comment}` : ''} [run ${runId}]`,
      runId,
      playbook: now.playbook,
      data: { verdict, by: who.id, via: who.via },
    });
    return { ok: true, run: now, message: `run ${runId} ${verb} by ${who.id}` };
  }

  /** Cancels a run that has not finished: held or pending ones at once, a running one at its current step. */
  async cancel(runId: string, who: Identity, reason: string): Promise<ApprovalResult> {
    const { store, logger } = this.deps;
    const detail = await store.getRun(runId);
    if (!detail) return { ok: false, code: 'not_found', message: `no run with id ${runId}`, run: null };
    const why = reason || 'no reason given';
    if (detail.state === 'running') {
      if (!(await this.deps.stopRunning(runId, `cancelled by ${who.id} via ${who.via}: ${why}`))) {
        return { ok: false, code: 'conflict', message: `run ${runId} is running but not on this replica: cancel it where it runs`, run: detail };
      }
      logger.info(`run ${runId} cancelled by ${who.id} via ${who.via} while running: ${why}`, { runId });
      return { ok: true, run: detail, message: `run ${runId} is being cancelled: its current step is stopped` };
    }
    const from = await store.cancelRun(runId, { at: this.now(), by: who, reason: why });
    const now = await store.getRun(runId);
    if (from === null) return { ok: false, code: 'conflict', message: `run ${runId} is ${now?.state ?? detail.state}: there is nothing to cancel`, run: now };
    if (from === 'awaiting_approval') this.deps.metrics.approvals.inc({ playbook: detail.playbook, outcome: 'cancelled' });
    this.deps.metrics.runs.inc({ playbook: detail.playbook, outcome: 'cancelled', mode: detail.dryRun ? 'dry-run' : 'live' });
    logger.info(`run ${runId} cancelled by ${who.id} via ${who.via}: ${why}`, { runId });
    this.ended(runId);
    // Told like every other end (a running run's cancel is told by the executor that stops it).
    await this.tell(detail, {
      kind: 'run.finished',
      text: `${detail.dryRun ? '[dry run] ' : ''}${detail.playbook} for ${detail.alertname} (${detail.targetKey}) cancelled by ${who.id} via ${who.via}: ${why} [run ${runId}]`,
      runId,
      playbook: detail.playbook,
      data: { state: 'cancelled', dryRun: detail.dryRun, by: who.id },
    });
    return { ok: true, run: now as RunDetail, message: `run ${runId} cancelled` };
  }

  /** Expires requests whose time is up, and tells people; returns the runs expired. */
  async expireDue(): Promise<string[]> {
    const ids = await this.deps.store.expireApprovals(this.now());
    // Told in parallel: one slow notifier must not hold up the next expiry.
    await Promise.all(ids.map((id) => this.expired(id)));
    return ids;
  }

  private async expired(id: string): Promise<void> {
    const run = await this.deps.store.getRun(id);
    if (!run) return;
    this.deps.metrics.approvals.inc({ playbook: run.playbook, outcome: 'expired' });
    this.deps.metrics.runs.inc({ playbook: run.playbook, outcome: 'expired', mode: 'live' });
    this.deps.logger.warn(`run ${id} expired: ${run.reason}`, { runId: id });
    this.ended(id);
    // A storm's held run asked nobody on its own (the storm did): its expiry shows in the storm's message.
    if (run.stormId) return;
    await this.tell(run, {
      kind: 'approval.expired',
      text: `${run.playbook} for ${run.alertname} (${run.targetKey}) expired: ${run.reason} [run ${id}]`,
      runId: id,
      playbook: run.playbook,
    });
  }

  private async tell(run: Run, n: Notification): Promise<void> {
    const events = [];
    for (const notifier of this.deps.notifiers) {
      const outcome = await deliver(notifier, n, this.deps);
      if (outcome) events.push({ ...outcome.event, runId: run.id, playbook: run.playbook, fingerprint: run.fingerprint });
    }
    if (events.length > 0) await this.deps.store.appendEvents(events);
  }

  private changed(runId: string): void {
    this.deps.onRunChanged?.(runId);
  }

  private ended(runId: string): void {
    this.changed(runId);
    this.deps.onRunEnded?.(runId);
  }

  private now(): string {
    return this.deps.clock().toISOString();
  }
}

/** Why a verdict cannot apply to a run that is not held: what happened to it instead. */
function notHeld(run: RunDetail, verdict: Verdict): string {
  const last = run.approvals[run.approvals.length - 1];
  const head = `run ${run.id} cannot be ${verdict === 'approve' ? 'approved' : 'rejected'}`;
  if (last?.decision === 'approved' || last?.decision === 'rejected') {
    return `${head}: it was already ${last.decision} by ${last.decidedBy ?? '?'} via ${last.decidedVia ?? '?'} at ${last.decidedAt ?? '?'} (it is ${run.state} now)`;
  }
  if (last?.decision === 'expired') return `${head}: its approval request expired at ${last.expiresAt} without a decision; the run will not act`;
  if (run.state === 'cancelled') return `${head}: it was cancelled (${run.reason})`;
  if (run.approvals.length === 0) return `${head}: it never asked for approval (it is ${run.state})`;
  return `${head}: it is ${run.state} (${run.reason})`;
}
